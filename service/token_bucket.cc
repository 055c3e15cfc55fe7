#include "service/token_bucket.h"

#include <algorithm>

namespace vigil::shop {

TokenBucket::TokenBucket(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(burst), tokens_(burst) {}

bool TokenBucket::TryTake(std::int64_t now_ns, double* retry_after_s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (last_ns_ >= 0 && now_ns > last_ns_) {
    const double elapsed_s = static_cast<double>(now_ns - last_ns_) / 1e9;
    tokens_ = std::min(burst_, tokens_ + elapsed_s * rate_);
  }
  if (last_ns_ < 0 || now_ns > last_ns_) last_ns_ = now_ns;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  if (retry_after_s != nullptr) *retry_after_s = (1.0 - tokens_) / rate_;
  return false;
}

}  // namespace vigil::shop
