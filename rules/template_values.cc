#include "rules/template_values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>

#include "rules/promql/label_matcher.h"
#include "rules/template.h"

namespace vigil::rules::template_internal {

// ---------------------------------------------------------------------------------------
// Values.

TValue::TValue() = default;
TValue::TValue(const TValue&) = default;
TValue::TValue(TValue&&) noexcept = default;
TValue& TValue::operator=(const TValue&) = default;
TValue& TValue::operator=(TValue&&) noexcept = default;
TValue::~TValue() = default;

TValue SampleValue(const promql::Sample& s) {
  TValue t;
  t.kind = TValue::Kind::kObject;
  t.fields.emplace_back("Labels", TValue::Map(s.metric));
  t.fields.emplace_back("Value", TValue::Float(s.v));
  return t;
}

const char* GoTypeName(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      return "<nil>";
    case TValue::Kind::kBool:
      return "bool";
    case TValue::Kind::kInt:
      return "int";
    case TValue::Kind::kFloat:
      return "float64";
    case TValue::Kind::kString:
      return "string";
    case TValue::Kind::kStringMap:
      return "map[string]string";
    case TValue::Kind::kObject:
      return "template.sample";
    case TValue::Kind::kList:
      return "template.queryResult";
  }
  return "?";
}

std::string Print(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      return "<no value>";
    case TValue::Kind::kBool:
      return v.b ? "true" : "false";
    case TValue::Kind::kInt:
      return std::to_string(v.i);
    case TValue::Kind::kFloat:
      return GoFormatFloat(v.f);
    case TValue::Kind::kString:
      return v.s;
    case TValue::Kind::kStringMap: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, val] : v.map) {
        if (!first) out += " ";
        first = false;
        out += k + ":" + val;
      }
      return out + "]";
    }
    case TValue::Kind::kObject: {
      std::string out = "{";
      for (std::size_t i = 0; i < v.fields.size(); ++i) {
        if (i) out += " ";
        out += Print(v.fields[i].second);
      }
      return out + "}";
    }
    case TValue::Kind::kList: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.list.size(); ++i) {
        if (i) out += " ";
        out += Print(v.list[i]);
      }
      return out + "]";
    }
  }
  return "";
}

bool Truth(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      return false;
    case TValue::Kind::kBool:
      return v.b;
    case TValue::Kind::kInt:
      return v.i != 0;
    case TValue::Kind::kFloat:
      return v.f != 0;
    case TValue::Kind::kString:
      return !v.s.empty();
    case TValue::Kind::kStringMap:
      return !v.map.empty();
    case TValue::Kind::kObject:
      return true;
    case TValue::Kind::kList:
      return !v.list.empty();
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Go fmt helpers.

// snprintf into a string of the size it needs (widths and precisions are bounded by the
// caller, so the result is at most a few KiB).
template <typename T>
std::string CFormat(const std::string& spec, T v) {
  char buf[128];
  int n = std::snprintf(buf, sizeof(buf), spec.c_str(), v);
  if (n < 0) return "";
  if (static_cast<std::size_t>(n) < sizeof(buf))
    return std::string(buf, static_cast<std::size_t>(n));
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec.c_str(), v);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string GoG4(double v) {  // fmt.Sprintf("%.4g", v)
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return CFormat("%.4g", v);
}

Result<double> ToFloat(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kFloat:
      return v.f;
    case TValue::Kind::kInt:
      return static_cast<double>(v.i);
    case TValue::Kind::kString: {
      double d;
      const std::string& s = v.s;
      std::string lower;
      for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "nan") return std::nan("");
      if (lower == "inf" || lower == "+inf") return INFINITY;
      if (lower == "-inf") return -INFINITY;
      char* end = nullptr;
      d = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size() ||
          std::isspace(static_cast<unsigned char>(s[0]))) {
        return Status::InvalidArgument("strconv.ParseFloat: parsing \"" + s + "\": invalid syntax");
      }
      return d;
    }
    default:
      return Status::InvalidArgument(std::string("can't convert ") + GoTypeName(v) + " to float");
  }
}

// Reads the digits of a printf width or precision at format[*j]; false when the number is over
// kMaxPrintfWidth (Go would try to pad to it: a width of 999999999 is a gigabyte).
bool ReadPrintfNumber(const std::string& format, std::size_t* j, int* value) {
  long long n = 0;
  while (*j < format.size() && std::isdigit(static_cast<unsigned char>(format[*j]))) {
    n = n * 10 + (format[(*j)++] - '0');
    if (n > kMaxPrintfWidth) return false;
  }
  *value = static_cast<int>(n);
  return true;
}

Status PrintfWidthError(const std::string& format) {
  return Status::InvalidArgument("printf: width or precision over " +
                                 std::to_string(kMaxPrintfWidth) + " in \"" + format + "\"");
}

// fmt.Sprintf subset: flags, width, precision and the verbs v s d f F e E g G x X q t %.
// Widths and precisions over kMaxPrintfWidth are errors.
Result<std::string> GoSprintf(const std::string& format, const std::vector<TValue>& args) {
  std::string out;
  std::size_t argi = 0;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out += c;
      continue;
    }
    std::size_t j = i + 1;
    std::string flags;
    while (j < format.size() && std::string("+-# 0").find(format[j]) != std::string::npos) {
      flags += format[j++];
    }
    std::string width, prec;
    bool has_prec = false;
    int width_n = 0, prec_n = 0;
    std::size_t digits = j;
    if (!ReadPrintfNumber(format, &j, &width_n)) return PrintfWidthError(format);
    if (j > digits) width = std::to_string(width_n);
    if (j < format.size() && format[j] == '.') {
      has_prec = true;
      ++j;
      if (!ReadPrintfNumber(format, &j, &prec_n)) return PrintfWidthError(format);
      prec = std::to_string(prec_n);
    }
    if (j >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[j];
    i = j;
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (argi >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const TValue& a = args[argi++];
    std::string cspec = "%" + flags + width + (has_prec ? "." + prec : "");
    auto bad = [&] {
      return std::string("%!") + verb + "(" + GoTypeName(a) + "=" + Print(a) + ")";
    };
    auto pad = [&](std::string s) {
      auto w = static_cast<std::size_t>(width_n);
      if (s.size() < w) {
        if (flags.find('-') != std::string::npos) {
          s += std::string(w - s.size(), ' ');
        } else {
          s = std::string(w - s.size(), ' ') + s;
        }
      }
      return s;
    };
    switch (verb) {
      case 'v':
      case 's':
        if (verb == 's' && a.kind != TValue::Kind::kString && a.kind != TValue::Kind::kStringMap &&
            a.kind != TValue::Kind::kObject && a.kind != TValue::Kind::kList) {
          out += bad();
        } else {
          std::string s = Print(a);
          if (has_prec && a.kind == TValue::Kind::kString) {
            s = s.substr(0, static_cast<std::size_t>(prec_n));
          }
          out += pad(s);
        }
        break;
      case 'q':
        if (a.kind != TValue::Kind::kString) {
          out += bad();
        } else {
          out += pad(promql::QuoteString(a.s));
        }
        break;
      case 't':
        out += a.kind == TValue::Kind::kBool ? pad(a.b ? "true" : "false") : bad();
        break;
      case 'd':
      case 'x':
      case 'X':
        if (a.kind == TValue::Kind::kInt) {
          out += CFormat(cspec + "ll" + verb, static_cast<long long>(a.i));
        } else if (a.kind == TValue::Kind::kString && verb != 'd') {
          static const char kHex[] = "0123456789abcdef0123456789ABCDEF";
          std::string h;
          for (unsigned char ch : a.s) {
            h += kHex[(ch >> 4) + (verb == 'X' ? 16 : 0)];
            h += kHex[(ch & 15) + (verb == 'X' ? 16 : 0)];
          }
          out += pad(h);
        } else {
          out += bad();
        }
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (a.kind != TValue::Kind::kFloat) {
          out += bad();
          break;
        }
        if (std::isnan(a.f) || std::isinf(a.f)) {
          std::string s = std::isnan(a.f) ? "NaN" : (a.f > 0 ? "+Inf" : "-Inf");
          if (std::isinf(a.f) && a.f > 0 && flags.find('+') == std::string::npos) s = "+Inf";
          out += pad(s);
          break;
        }
        if ((verb == 'g' || verb == 'G') && !has_prec) {
          std::string s = GoFormatFloat(a.f);
          if (flags.find('+') != std::string::npos && a.f >= 0) s = "+" + s;
          if (verb == 'G') {
            for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          }
          out += pad(s);
          break;
        }
        if ((verb == 'e' || verb == 'E') && !has_prec) {
          char buf[64];
          auto r = std::to_chars(buf, buf + sizeof(buf), a.f, std::chars_format::scientific);
          std::string s(buf, r.ptr);
          if (verb == 'E') {
            for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          }
          out += pad(s);
          break;
        }
        out += CFormat(cspec + (verb == 'F' ? 'f' : verb), a.f);
        break;
      }
      default:
        out += std::string("%!") + verb + "(" + GoTypeName(a) + "=" + Print(a) + ")";
    }
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (std::size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      out += std::string(GoTypeName(args[k])) + "=" + Print(args[k]);
    }
    out += ")";
  }
  return out;
}

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return GoG4(v);
  std::string prefix;
  if (std::fabs(v) >= 1) {
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return GoG4(v) + prefix;
  }
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoG4(v) + prefix;
}

std::string Humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return GoG4(v);
  std::string prefix;
  for (const char* p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return GoG4(v) + prefix;
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoG4(v);
  if (v == 0) return GoG4(v) + "s";
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    // Go converts out-of-range floats to the minimum int64 on amd64.
    std::int64_t d = v >= 9.2233720368547758e18 ? std::numeric_limits<std::int64_t>::min()
                                                : static_cast<std::int64_t>(v);
    std::int64_t seconds = d % 60, minutes = (d / 60) % 60, hours = (d / 3600) % 24,
                 days = d / 86400;
    auto s = [](std::int64_t x) { return std::to_string(x); };
    if (days != 0)
      return sign + s(days) + "d " + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (hours != 0) return sign + s(hours) + "h " + s(minutes) + "m " + s(seconds) + "s";
    if (minutes != 0) return sign + s(minutes) + "m " + s(seconds) + "s";
    return sign + GoG4(v) + "s";
  }
  std::string prefix;
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return GoG4(v) + prefix + "s";
}

std::string HumanizeTimestamp(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoG4(v);
  // Prometheus: model.TimeFromUnixNano(int64(v * 1e9)); Go on amd64 turns an out-of-range
  // float into the minimum int64 (1677-09-21), never undefined behaviour.
  double ns_f = v * 1e9;
  std::int64_t ns = ns_f >= -9.2233720368547758e18 && ns_f < 9.2233720368547758e18
                        ? static_cast<std::int64_t>(ns_f)
                        : std::numeric_limits<std::int64_t>::min();
  std::int64_t secs = ns / 1'000'000'000, nanos = ns % 1'000'000'000;
  if (nanos < 0) {
    secs -= 1;
    nanos += 1'000'000'000;
  }
  auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (nanos > 0) {
    char nb[32];
    std::snprintf(nb, sizeof(nb), ".%09lld", static_cast<long long>(nanos));
    std::string n = nb;
    while (!n.empty() && n.back() == '0') n.pop_back();
    out += n;
  }
  return out + " +0000 UTC";
}

// The widths and precisions of a literal printf format, checked at parse time.
Status CheckPrintfFormat(const std::string& format) {
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    std::size_t j = i + 1;
    while (j < format.size() && std::string("+-# 0").find(format[j]) != std::string::npos) ++j;
    int n = 0;
    if (!ReadPrintfNumber(format, &j, &n)) return PrintfWidthError(format);
    if (j < format.size() && format[j] == '.') {
      ++j;
      if (!ReadPrintfNumber(format, &j, &n)) return PrintfWidthError(format);
    }
    i = j;  // the verb (%% included)
  }
  return Status::Ok();
}

}  // namespace vigil::rules::template_internal
