// LatencyHistogram: a fixed-memory latency recorder with about 1% relative precision, from
// 1 microsecond to about 100 seconds, for the load generator's quantiles.
//
// Buckets are logarithmic (each 1.02x the previous), so p99 of a million samples costs the
// same memory as p99 of ten. Record() is lock-free (relaxed atomic increments) and may be
// called from many threads; Quantile(), Count() and Merge() read a moment's snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace vigil::shop {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 935;  // ceil(log(1e8) / log(1.02)) + 1

  void Record(double seconds);
  std::uint64_t Count() const;
  // The q-quantile (0 < q <= 1) in seconds: the upper edge of the bucket holding it (so within
  // about 2% above the true value); 0 when empty.
  double Quantile(double q) const;
  double Max() const;
  void Merge(const LatencyHistogram& other);
  // Subtracts `earlier` (a snapshot taken before) from this one: the samples in between.
  void Subtract(const LatencyHistogram& earlier);
  void CopyFrom(const LatencyHistogram& other);

  // Exposed for tests: bucket index of a latency, and a bucket's upper edge in seconds.
  static int BucketOf(double seconds);
  static double UpperEdge(int bucket);

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
};

}  // namespace vigil::shop
