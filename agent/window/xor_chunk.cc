#include "agent/window/xor_chunk.h"

#include <bit>

namespace vigil {
namespace {

// Delta-of-delta buckets: (prefix, prefix bits, value bits).
struct Bucket {
  std::uint64_t prefix;
  int prefix_bits;
  int value_bits;
};
constexpr Bucket kBuckets[] = {{0b10, 2, 14}, {0b110, 3, 17}, {0b1110, 4, 20}};

// Buckets hold dod in [-(2^(bits-1) - 1), 2^(bits-1)]: larger raw values are negative.
std::int64_t DecodeDod(std::uint64_t raw, int bits) {
  auto v = static_cast<std::int64_t>(raw);
  return v > (std::int64_t{1} << (bits - 1)) ? v - (std::int64_t{1} << bits) : v;
}

}  // namespace

void XorChunk::WriteBits(std::uint64_t value, int bits) {
  for (int i = bits - 1; i >= 0; --i) {
    if ((bit_len_ & 7) == 0) data_.push_back(0);
    if ((value >> i) & 1) data_.back() |= static_cast<std::uint8_t>(0x80u >> (bit_len_ & 7));
    ++bit_len_;
  }
}

void XorChunk::WriteValue(double v) {
  std::uint64_t bits = std::bit_cast<std::uint64_t>(v);
  std::uint64_t x = bits ^ last_v_;
  last_v_ = bits;
  if (x == 0) {
    WriteBits(0, 1);
    return;
  }
  WriteBits(1, 1);
  int leading = std::countl_zero(x);
  int trailing = std::countr_zero(x);
  if (leading >= 32) leading = 31;  // 5 bits
  if (leading_ != 0xff && leading >= leading_ && trailing >= trailing_) {
    WriteBits(0, 1);  // reuse the previous window
    WriteBits(x >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = static_cast<std::uint8_t>(leading);
  trailing_ = static_cast<std::uint8_t>(trailing);
  int sig = 64 - leading - trailing;
  WriteBits(1, 1);
  WriteBits(static_cast<std::uint64_t>(leading), 5);
  WriteBits(static_cast<std::uint64_t>(sig & 63), 6);  // 64 is written as 0
  WriteBits(x >> trailing, sig);
}

bool XorChunk::Append(TimestampMs t, double v) {
  if (count_ >= kMaxSamples) return false;
  if (count_ == 0) {
    first_t_ = last_t_ = t;
    last_v_ = std::bit_cast<std::uint64_t>(v);
    WriteBits(last_v_, 64);
    ++count_;
    return true;
  }
  if (t <= last_t_) return false;
  std::int64_t delta = t - last_t_;
  std::int64_t dod = delta - last_delta_;
  if (dod == 0) {
    WriteBits(0, 1);
  } else {
    bool written = false;
    for (const Bucket& b : kBuckets) {
      std::int64_t lim = std::int64_t{1} << (b.value_bits - 1);
      if (dod >= -lim + 1 && dod <= lim) {
        WriteBits(b.prefix, b.prefix_bits);
        WriteBits(static_cast<std::uint64_t>(dod) & ((std::uint64_t{1} << b.value_bits) - 1),
                  b.value_bits);
        written = true;
        break;
      }
    }
    if (!written) {
      WriteBits(0b1111, 4);
      WriteBits(static_cast<std::uint64_t>(dod), 64);
    }
  }
  last_delta_ = delta;
  last_t_ = t;
  WriteValue(v);
  ++count_;
  return true;
}

std::uint64_t XorChunkReader::ReadBits(int bits) {
  std::uint64_t out = 0;
  for (int i = 0; i < bits; ++i) {
    std::uint8_t byte = c_.data_[pos_ >> 3];
    out = (out << 1) | ((byte >> (7 - (pos_ & 7))) & 1);
    ++pos_;
  }
  return out;
}

bool XorChunkReader::Next(TimestampMs* t, double* v) {
  if (read_ >= c_.count_) return false;
  if (read_ == 0) {
    t_ = c_.first_t_;
    v_ = ReadBits(64);
  } else {
    std::int64_t dod = 0;
    if (ReadBit()) {
      int value_bits = 64;
      for (const Bucket& b : kBuckets) {
        if (!ReadBit()) {
          value_bits = b.value_bits;
          break;
        }
      }
      std::uint64_t raw = ReadBits(value_bits);
      dod = value_bits == 64 ? static_cast<std::int64_t>(raw) : DecodeDod(raw, value_bits);
    }
    delta_ += dod;
    t_ += delta_;
    if (ReadBit()) {
      if (ReadBit()) {
        leading_ = static_cast<std::uint8_t>(ReadBits(5));
        int sig = static_cast<int>(ReadBits(6));
        if (sig == 0) sig = 64;
        trailing_ = static_cast<std::uint8_t>(64 - leading_ - sig);
      }
      int sig = 64 - leading_ - trailing_;
      v_ ^= ReadBits(sig) << trailing_;
    }
  }
  ++read_;
  *t = t_;
  *v = std::bit_cast<double>(v_);
  return true;
}

}  // namespace vigil
