// TokenBucket: the request rate limiter. Holds up to `burst` tokens, refilled at `rate` tokens
// per second; each admitted request takes one.
//
// Time is an argument (steady nanoseconds), never read here, so tests step it by hand.
// Thread-safe: one mutex guards the state; the critical section is a few arithmetic operations.
#pragma once

#include <cstdint>
#include <mutex>

namespace vigil::shop {

class TokenBucket {
 public:
  // REQUIRES: rate > 0, burst >= 1. The bucket starts full.
  TokenBucket(double rate_per_second, double burst);

  // Takes one token at `now_ns` and returns true, or returns false and sets *retry_after_s
  // (when non-null) to the seconds until a token will be available.
  bool TryTake(std::int64_t now_ns, double* retry_after_s);

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  const double rate_;
  const double burst_;
  std::mutex mu_;
  double tokens_;              // GUARDED_BY(mu_)
  std::int64_t last_ns_ = -1;  // GUARDED_BY(mu_); -1 before the first call
};

}  // namespace vigil::shop
