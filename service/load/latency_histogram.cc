#include "service/load/latency_histogram.h"

#include <cmath>

namespace vigil::shop {
namespace {

constexpr double kMin = 1e-6;  // bucket 0 holds everything up to 1 us
const double kLogBase = std::log(1.02);

}  // namespace

int LatencyHistogram::BucketOf(double seconds) {
  if (!(seconds > kMin)) return 0;
  const int b = static_cast<int>(std::ceil(std::log(seconds / kMin) / kLogBase));
  return b >= kBuckets ? kBuckets - 1 : b;
}

double LatencyHistogram::UpperEdge(int bucket) { return kMin * std::pow(1.02, bucket); }

void LatencyHistogram::Record(double seconds) {
  counts_[static_cast<std::size_t>(BucketOf(seconds))].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::Count() const {
  std::uint64_t n = 0;
  for (const auto& c : counts_) n += c.load(std::memory_order_relaxed);
  return n;
}

double LatencyHistogram::Quantile(double q) const {
  const std::uint64_t n = Count();
  if (n == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[static_cast<std::size_t>(b)].load(std::memory_order_relaxed);
    if (seen >= rank && seen > 0) return UpperEdge(b);
  }
  return UpperEdge(kBuckets - 1);
}

double LatencyHistogram::Max() const {
  for (int b = kBuckets - 1; b >= 0; --b) {
    if (counts_[static_cast<std::size_t>(b)].load(std::memory_order_relaxed) > 0) {
      return UpperEdge(b);
    }
  }
  return 0;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    counts_[i].fetch_add(other.counts_[i].load(std::memory_order_relaxed),
                         std::memory_order_relaxed);
  }
}

void LatencyHistogram::Subtract(const LatencyHistogram& earlier) {
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    const std::uint64_t e = earlier.counts_[i].load(std::memory_order_relaxed);
    const std::uint64_t n = counts_[i].load(std::memory_order_relaxed);
    counts_[i].store(n >= e ? n - e : 0, std::memory_order_relaxed);
  }
}

void LatencyHistogram::CopyFrom(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    counts_[i].store(other.counts_[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
}

}  // namespace vigil::shop
