#include "collectors/redis/redis_collector.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/base/clock.h"
#include "agent/config/config.h"
#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
namespace {

using testing::FindValue;

// A loopback port nobody listens on (bound, read back, closed).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST_CASE("a Redis that is down gives redis_up 0 and an error, with the target label", "[redis]") {
  RedisConfig config;
  config.name = "cache";
  config.port = ClosedPort();
  config.password = "hunter2-secret";
  RedisCollector c(config);
  TimestampMs now = SystemClock::Get().Now();
  for (int i = 0; i < 2; ++i) {  // and again: the next cycle tries to connect anew
    MetricSink sink;
    Status s = c.Collect(CollectContext{now, now + 1000}, sink);
    CHECK(s.code() == Status::Code::kUnavailable);
    CHECK(s.message().find("127.0.0.1:" + std::to_string(config.port)) != std::string::npos);
    CHECK(s.message().find("hunter2") == std::string::npos);
    Snapshot snap = sink.Take();
    CHECK(FindValue(snap, "redis_up", {{"target", "cache"}}) == 0);
    CHECK(snap.size() == 1);
  }
}

TEST_CASE("a deadline already passed fails fast", "[redis]") {
  RedisConfig config;
  config.name = "late";
  config.port = ClosedPort();
  RedisCollector c(config);
  TimestampMs now = SystemClock::Get().Now();
  MetricSink sink;
  auto t0 = std::chrono::steady_clock::now();
  Status s = c.Collect(CollectContext{now - 2000, now - 1000}, sink);
  CHECK_FALSE(s.ok());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500));
}

TEST_CASE("redis config: address, secret, unknown keys, errors with positions", "[redis]") {
  auto ok = ParseConfig(
      "redis:\n"
      "  - name: cache\n"
      "    address: 127.0.0.1:6390\n"
      "    username: vigil\n"
      "    password: s3cret\n"
      "    slowlog_max: 32\n"
      "  - name: sessions\n",
      "vigil.yml");
  REQUIRE(ok.ok());
  int redis = 0;
  for (const CollectorSpec& spec : ok->collectors) {
    if (spec.kind != "redis") continue;
    ++redis;
    REQUIRE(spec.make);
    CHECK(spec.make() != nullptr);
  }
  CHECK(redis == 2);

  auto bad = ParseConfig(
      "redis:\n"
      "  - name: a\n"
      "    address: localhost\n"
      "  - name: b\n"
      "    address: 127.0.0.1:99999\n"
      "  - name: c\n"
      "    password: x\n"
      "    password_file: /nonexistent\n"
      "  - name: d\n"
      "    adress: 127.0.0.1:6379\n",
      "vigil.yml");
  REQUIRE_FALSE(bad.ok());
  const std::string& msg = bad.status().message();
  INFO(msg);
  CHECK(msg.find("vigil.yml:3:14: redis[0].address: invalid address \"localhost\"") !=
        std::string::npos);
  CHECK(msg.find("vigil.yml:5:14: redis[1].address: invalid address \"127.0.0.1:99999\": want a "
                 "port from 1 to 65535") != std::string::npos);
  CHECK(msg.find("give at most one of \"password\" and \"password_file\"") != std::string::npos);
  CHECK(msg.find("vigil.yml:10:5: redis[3]: unknown key \"adress\"") != std::string::npos);
}

}  // namespace
}  // namespace vigil::collectors
