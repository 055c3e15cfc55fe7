#include "service/token_bucket.h"

#include <catch2/catch.hpp>

namespace vigil::shop {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST_CASE("token bucket admits a burst, then refills at its rate") {
  TokenBucket bucket(/*rate=*/10, /*burst=*/3);
  double retry = -1;
  CHECK(bucket.TryTake(0, &retry));
  CHECK(bucket.TryTake(0, &retry));
  CHECK(bucket.TryTake(0, &retry));
  CHECK_FALSE(bucket.TryTake(0, &retry));
  CHECK(retry == Approx(0.1));
  // 50 ms later half a token is back: still refused, retry after the other 50 ms.
  CHECK_FALSE(bucket.TryTake(kSecond / 20, &retry));
  CHECK(retry == Approx(0.05));
  CHECK(bucket.TryTake(kSecond / 10, &retry));
  CHECK_FALSE(bucket.TryTake(kSecond / 10, &retry));
}

TEST_CASE("token bucket never holds more than its burst") {
  TokenBucket bucket(100, 2);
  CHECK(bucket.TryTake(0, nullptr));
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += bucket.TryTake(100 * kSecond, nullptr) ? 1 : 0;
  CHECK(admitted == 2);
}

TEST_CASE("token bucket ignores time going backwards") {
  TokenBucket bucket(1, 1);
  CHECK(bucket.TryTake(5 * kSecond, nullptr));
  CHECK_FALSE(bucket.TryTake(4 * kSecond, nullptr));
  CHECK_FALSE(bucket.TryTake(5 * kSecond, nullptr));
  CHECK(bucket.TryTake(6 * kSecond, nullptr));
}

TEST_CASE("token bucket admits rate x seconds over a long run") {
  TokenBucket bucket(50, 5);
  int admitted = 0;
  for (std::int64_t t = 0; t < 10 * kSecond; t += kSecond / 1000) {
    admitted += bucket.TryTake(t, nullptr) ? 1 : 0;
  }
  CHECK(admitted >= 500);
  CHECK(admitted <= 506);
}

}  // namespace
}  // namespace vigil::shop
