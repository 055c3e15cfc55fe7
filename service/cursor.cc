#include "service/cursor.h"

#include <charconv>
#include <cstdint>

namespace vigil::shop {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// A 16-bit checksum of the id's decimal text (FNV-1a folded); enough to catch edits.
std::uint32_t Check(std::string_view digits) {
  std::uint32_t h = 2166136261u;
  for (char c : digits) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return (h ^ (h >> 16)) & 0xffffu;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return Status::InvalidArgument("bad base64url length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = DecodeChar(c);
    if (v < 0) return Status::InvalidArgument("bad base64url character");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xffu);
    }
  }
  // Leftover bits must be zero, so every byte string has exactly one encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Status::InvalidArgument("bad base64url padding bits");
  }
  return out;
}

std::string EncodeCursor(std::int64_t last_id) {
  const std::string digits = std::to_string(last_id);
  return Base64UrlEncode("c1:" + digits + ":" + std::to_string(Check(digits)));
}

Result<std::int64_t> DecodeCursor(std::string_view text) {
  const Status bad = Status::InvalidArgument("invalid cursor");
  if (text.empty() || text.size() > 64) return bad;
  Result<std::string> raw = Base64UrlDecode(text);
  if (!raw.ok()) return bad;
  std::string_view s = *raw;
  if (s.substr(0, 3) != "c1:") return bad;
  s.remove_prefix(3);
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) return bad;
  const std::string_view digits = s.substr(0, colon);
  const std::string_view check = s.substr(colon + 1);
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || p != digits.data() + digits.size() || id < 0) return bad;
  std::uint32_t got = 0;
  auto [q, ec2] = std::from_chars(check.data(), check.data() + check.size(), got);
  if (ec2 != std::errc() || q != check.data() + check.size() || got != Check(digits)) return bad;
  if (std::to_string(id) != digits) return bad;  // no leading zeros or signs
  return id;
}

}  // namespace vigil::shop
