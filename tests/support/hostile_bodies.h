// Bodies hostile scrape targets serve (tests/unit/collectors/scrape/scrape_limits_test.cc and
// tests/reliability/hostile_clients_test.cc): a gzip bomb, one line of many labels, many
// series. Link ZLIB::ZLIB.
#pragma once

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <string>

namespace vigil::testing {

inline constexpr std::size_t kBombBytes = std::size_t{1} << 30;  // 1 GiB of zeros inflated

// kBombBytes zero bytes, gzip-compressed at level 9 (about 1 MiB), made once.
inline const std::string& GzipBomb() {
  static const std::string bomb = [] {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string zeros(1 << 20, '\0');
    std::string out;
    std::string buf(1 << 16, '\0');
    for (std::size_t fed = 0; fed <= kBombBytes; fed += zeros.size()) {
      bool last = fed == kBombBytes;
      z.next_in = reinterpret_cast<Bytef*>(zeros.data());
      z.avail_in = last ? 0 : static_cast<uInt>(zeros.size());
      int ret = Z_OK;
      do {
        z.next_out = reinterpret_cast<Bytef*>(buf.data());
        z.avail_out = static_cast<uInt>(buf.size());
        ret = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
        out.append(buf.data(), buf.size() - z.avail_out);
      } while (z.avail_out == 0 || (last && ret != Z_STREAM_END));
    }
    deflateEnd(&z);
    return out;
  }();
  return bomb;
}

// One sample line `wide{l0="v",...} 1` with `n` labels.
inline std::string ManyLabels(int n) {
  std::string line = "wide{";
  for (int i = 0; i < n; ++i) line += "l" + std::to_string(i) + "=\"v\",";
  return line + "} 1\n";
}

// A gauge family `name` of `n` series {i="0"} ... {i="n-1"}.
inline std::string ManySeries(int n, const std::string& name = "s") {
  std::string body = "# TYPE " + name + " gauge\n";
  for (int i = 0; i < n; ++i) body += name + "{i=\"" + std::to_string(i) + "\"} 1\n";
  return body;
}

}  // namespace vigil::testing
