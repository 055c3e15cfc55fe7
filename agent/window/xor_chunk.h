// XorChunk: up to kMaxSamples (timestamp, value) pairs compressed as Prometheus's TSDB does:
// delta-of-delta timestamps and XOR-ed float values (Gorilla). Values keep their exact bits,
// so staleness markers survive. ~1.5-3 bytes per sample for regular scrapes of slowly
// changing values, against 16 bytes raw. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "agent/base/clock.h"

namespace vigil {

class XorChunk {
 public:
  static constexpr int kMaxSamples = 120;

  // Appends a sample; false when the chunk is full or `t` is not after the last one.
  bool Append(TimestampMs t, double v);
  int size() const { return count_; }
  bool empty() const { return count_ == 0; }
  TimestampMs min_time() const { return first_t_; }
  TimestampMs max_time() const { return last_t_; }
  std::size_t bytes() const { return data_.capacity() + sizeof(*this); }

  // Calls fn(t, v) for every sample in order.
  template <typename Fn>
  void ForEach(Fn fn) const;

 private:
  void WriteBits(std::uint64_t value, int bits);
  void WriteValue(double v);

  std::vector<std::uint8_t> data_;
  std::uint32_t bit_len_ = 0;
  std::uint16_t count_ = 0;
  std::uint8_t leading_ = 0xff;  // 0xff: no previous window
  std::uint8_t trailing_ = 0;
  TimestampMs first_t_ = 0;
  TimestampMs last_t_ = 0;
  std::int64_t last_delta_ = 0;
  std::uint64_t last_v_ = 0;

  friend class XorChunkReader;
};

// Sequential decoder of a chunk's bit stream.
class XorChunkReader {
 public:
  explicit XorChunkReader(const XorChunk& c) : c_(c) {}
  // Next sample into (t, v); false at the end.
  bool Next(TimestampMs* t, double* v);

 private:
  std::uint64_t ReadBits(int bits);
  bool ReadBit() { return ReadBits(1) != 0; }

  const XorChunk& c_;
  std::uint32_t pos_ = 0;
  int read_ = 0;
  TimestampMs t_ = 0;
  std::int64_t delta_ = 0;
  std::uint64_t v_ = 0;
  std::uint8_t leading_ = 0, trailing_ = 0;
};

template <typename Fn>
void XorChunk::ForEach(Fn fn) const {
  XorChunkReader r(*this);
  TimestampMs t;
  double v;
  while (r.Next(&t, &v)) fn(t, v);
}

}  // namespace vigil
