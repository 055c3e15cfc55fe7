#include "rules/promql/series_notation.h"

#include <cctype>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>

#include "rules/promql/value.h"

namespace vigil::promql {

bool ParseTestNumber(std::string_view text, double* out) {
  std::string s(text);
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "inf" || lower == "+inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "-inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (s.empty()) return false;
  for (char c : lower) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' ||
          c == '-')) {
      return false;
    }
  }
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

Result<std::vector<std::optional<double>>> ExpandSeriesValues(std::string_view text) {
  std::vector<std::optional<double>> out;
  std::istringstream in{std::string(text)};
  std::string tok;
  while (in >> tok) {
    auto bad = [&] { return Status::InvalidArgument("bad series value: \"" + tok + "\""); };
    std::string base = tok;
    long long times = -1;
    std::size_t x = tok.rfind('x');
    if (x != std::string::npos && x + 1 < tok.size() && x > 0) {
      std::string n = tok.substr(x + 1);
      bool digits = true;
      for (char c : n) digits = digits && std::isdigit(static_cast<unsigned char>(c));
      if (digits) {
        times = std::stoll(n);
        base = tok.substr(0, x);
      }
    }
    if (base == "_") {
      for (long long i = 0; i < (times < 0 ? 1 : times); ++i) out.push_back(std::nullopt);
      continue;
    }
    if (base == "stale") {
      for (long long i = 0; i < (times < 0 ? 1 : times + 1); ++i) out.push_back(StaleNaN());
      continue;
    }
    // Split "a+b" / "a-b": the sign after the first character not preceded by 'e'.
    double a = 0, b = 0;
    std::size_t split = std::string::npos;
    for (std::size_t i = 1; i < base.size(); ++i) {
      if ((base[i] == '+' || base[i] == '-') && base[i - 1] != 'e' && base[i - 1] != 'E') {
        split = i;
        break;
      }
    }
    if (split == std::string::npos) {
      if (!ParseTestNumber(base, &a)) return bad();
    } else {
      if (times < 0) return bad();
      if (!ParseTestNumber(base.substr(0, split), &a) || !ParseTestNumber(base.substr(split), &b)) {
        return bad();
      }
    }
    if (times < 0) {
      out.push_back(a);
      continue;
    }
    for (long long i = 0; i <= times; ++i) {
      out.push_back(a);
      a += b;
    }
  }
  return out;
}

}  // namespace vigil::promql
