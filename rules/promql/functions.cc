// PromQL functions with Prometheus 2.42 semantics (promql/functions.go).
#include "rules/promql/functions.h"

#include <re2/re2.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

namespace vigil::promql {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Go's math.Max/math.Min: NaN wins over finite values, +Inf/-Inf win over NaN.
double GoMax(double x, double y) {
  if (std::isinf(x) && x > 0) return x;
  if (std::isinf(y) && y > 0) return y;
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x == 0 && x == y) return std::signbit(x) ? y : x;
  return x > y ? x : y;
}
double GoMin(double x, double y) {
  if (std::isinf(x) && x < 0) return x;
  if (std::isinf(y) && y < 0) return y;
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x == 0 && x == y) return std::signbit(x) ? x : y;
  return x < y ? x : y;
}

double ExtrapolatedRate(const std::vector<Point>& pts, const RangeContext& ctx, bool is_counter,
                        bool is_rate, bool* ok) {
  *ok = false;
  if (pts.size() < 2) return 0;
  *ok = true;
  const double range_start = static_cast<double>(ctx.window_end - ctx.range_ms);
  const double range_end = static_cast<double>(ctx.window_end);
  double result = pts.back().v - pts.front().v;
  if (is_counter) {
    double last = 0;
    for (const auto& p : pts) {
      if (p.v < last) result += last;
      last = p.v;
    }
  }
  double to_start = (static_cast<double>(pts.front().t) - range_start) / 1000;
  double to_end = (range_end - static_cast<double>(pts.back().t)) / 1000;
  double sampled = static_cast<double>(pts.back().t - pts.front().t) / 1000;
  double avg_between = sampled / static_cast<double>(pts.size() - 1);
  if (is_counter && result > 0 && pts.front().v >= 0) {
    double to_zero = sampled * (pts.front().v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  double threshold = avg_between * 1.1;
  double interval = sampled;
  interval += to_start < threshold ? to_start : avg_between / 2;
  interval += to_end < threshold ? to_end : avg_between / 2;
  double factor = interval / sampled;
  if (is_rate) factor /= static_cast<double>(ctx.range_ms) / 1000;
  return result * factor;
}

std::optional<double> InstantValue(const std::vector<Point>& pts, bool is_rate) {
  if (pts.size() < 2) return std::nullopt;
  const Point& last = pts[pts.size() - 1];
  const Point& prev = pts[pts.size() - 2];
  double result = (is_rate && last.v < prev.v) ? last.v : last.v - prev.v;
  std::int64_t interval = last.t - prev.t;
  if (interval == 0) return std::nullopt;
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  return result;
}

void KahanInc(double inc, double* sum, double* c) {
  double t = *sum + inc;
  if (std::fabs(*sum) >= std::fabs(inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

void LinearRegression(const std::vector<Point>& pts, TimestampMs intercept_time, double* slope,
                      double* intercept) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  double init_y = pts[0].v;
  bool const_y = true;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    if (const_y && i > 0 && pts[i].v != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(pts[i].t - intercept_time) / 1e3;
    KahanInc(x, &sum_x, &c_x);
    KahanInc(pts[i].v, &sum_y, &c_y);
    KahanInc(x * pts[i].v, &sum_xy, &c_xy);
    KahanInc(x * x, &sum_x2, &c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = kNaN;
      *intercept = kNaN;
    } else {
      *slope = 0;
      *intercept = init_y;
    }
    return;
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  *slope = cov_xy / var_x;
  *intercept = sum_y / n - *slope * sum_x / n;
}

// Go's strconv.ParseFloat for bucket bounds ("+Inf", "0.5", "1e3", "inf", "NaN").
bool ParseGoFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string str(s);
  std::string lower;
  for (char c : str) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view body = lower;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    *out = neg ? -kInf : kInf;
    return true;
  }
  if (body == "nan") {
    if (s[0] == '+' || s[0] == '-') return false;
    *out = kNaN;
    return true;
  }
  for (char c : body) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' ||
          c == '-' || c == 'x' || c == 'p' || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  errno = 0;
  char* end = nullptr;
  *out = std::strtod(str.c_str(), &end);
  if (end != str.c_str() + str.size()) return false;
  if (errno == ERANGE && std::isinf(*out)) return false;
  return true;
}

struct Bucket {
  double upper;
  double count;
};

double BucketQuantile(double q, std::vector<Bucket> buckets) {
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.upper < b.upper; });
  if (!(std::isinf(buckets.back().upper) && buckets.back().upper > 0)) return kNaN;
  // Coalesce buckets with the same upper bound.
  std::vector<Bucket> bs;
  for (const auto& b : buckets) {
    if (!bs.empty() && bs.back().upper == b.upper) {
      bs.back().count += b.count;
    } else {
      bs.push_back(b);
    }
  }
  double max = -kInf;
  for (auto& b : bs) {
    if (b.count > max) {
      max = b.count;
    } else if (b.count < max) {
      b.count = max;
    }
  }
  if (bs.size() < 2) return kNaN;
  double observations = bs.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  std::size_t b = 0;
  while (b < bs.size() - 1 && !(bs[b].count >= rank)) ++b;
  if (b == bs.size() - 1) return bs[bs.size() - 2].upper;
  if (b == 0 && bs[0].upper <= 0) return bs[0].upper;
  double start = 0, end = bs[b].upper, count = bs[b].count;
  if (b > 0) {
    start = bs[b - 1].upper;
    count -= bs[b - 1].count;
    rank -= bs[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

bool IsValidLabelNameStrict(const std::string& s) { return IsValidLabelName(s); }

// Go's regexp.Expand: $1, ${1}, $name, ${name}, $$.
std::string ExpandTemplate(const re2::RE2& re, const std::string& tmpl,
                           const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& named = re.NamedCapturingGroups();
  auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  std::size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c != '$') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    std::string name;
    std::size_t next;
    bool ok = false;
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      std::size_t j = i + 2;
      while (j < tmpl.size() && is_name_char(tmpl[j])) ++j;
      if (j > i + 2 && j < tmpl.size() && tmpl[j] == '}') {
        name = tmpl.substr(i + 2, j - i - 2);
        next = j + 1;
        ok = true;
      }
    } else {
      std::size_t j = i + 1;
      while (j < tmpl.size() && is_name_char(tmpl[j])) ++j;
      if (j > i + 1) {
        name = tmpl.substr(i + 1, j - i - 1);
        next = j;
        ok = true;
      }
    }
    if (!ok) {
      out += '$';
      ++i;
      continue;
    }
    i = next;
    bool numeric = std::all_of(name.begin(), name.end(), [](char ch) {
      return std::isdigit(static_cast<unsigned char>(ch));
    });
    int idx = -1;
    if (numeric) {
      if (name.size() < 9) idx = std::stoi(name);
    } else {
      auto it = named.find(name);
      if (it != named.end()) idx = it->second;
    }
    if (idx >= 0 && idx < static_cast<int>(groups.size()) && groups[idx].data() != nullptr) {
      out.append(groups[idx].data(), groups[idx].size());
    }
  }
  return out;
}

Status HistogramQuantile(std::vector<Value>& args, TimestampMs ts, Vector* out) {
  double q = args[0].scalar;
  std::map<Labels, std::pair<Labels, std::vector<Bucket>>> groups;
  std::vector<const Labels*> order;
  for (const auto& s : args[1].vector) {
    double upper;
    if (!ParseGoFloat(s.metric.Get("le"), &upper)) continue;
    Labels key = s.metric;
    key.Remove("le");
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) {
      Labels m = key;
      m.Remove("__name__");
      it->second.first = std::move(m);
      order.push_back(&it->first);
    }
    it->second.second.push_back(Bucket{upper, s.v});
  }
  for (const Labels* k : order) {
    auto& g = groups[*k];
    out->push_back(Sample{g.first, BucketQuantile(q, g.second), ts});
  }
  return Status::Ok();
}

Status LabelReplace(std::vector<Value>& args, TimestampMs ts, Vector* out) {
  const std::string& dst = args[1].str;
  const std::string& repl = args[2].str;
  const std::string& src = args[3].str;
  const std::string& regex = args[4].str;
  RE2::Options opts;
  opts.set_log_errors(false);
  re2::RE2 re("^(?:" + regex + ")$", opts);
  if (!re.ok()) {
    return Status::InvalidArgument("invalid regular expression in label_replace(): " + regex);
  }
  if (!IsValidLabelNameStrict(dst)) {
    return Status::InvalidArgument("invalid destination label name in label_replace(): " + dst);
  }
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  for (const auto& s : args[0].vector) {
    std::string src_val(s.metric.Get(src));
    Labels m = s.metric;
    if (re.Match(src_val, 0, src_val.size(), re2::RE2::UNANCHORED, groups.data(),
                 static_cast<int>(groups.size()))) {
      std::string res = ExpandTemplate(re, repl, groups);
      m.Remove(dst);
      if (!res.empty()) m.Set(dst, res);
    }
    out->push_back(Sample{std::move(m), s.v, ts});
  }
  return Status::Ok();
}

Status LabelJoin(std::vector<Value>& args, TimestampMs ts, Vector* out) {
  const std::string& dst = args[1].str;
  const std::string& sep = args[2].str;
  std::vector<std::string> srcs;
  for (std::size_t i = 3; i < args.size(); ++i) {
    if (!IsValidLabelNameStrict(args[i].str)) {
      return Status::InvalidArgument("invalid source label name in label_join(): " + args[i].str);
    }
    srcs.push_back(args[i].str);
  }
  if (!IsValidLabelNameStrict(dst)) {
    return Status::InvalidArgument("invalid destination label name in label_join(): " + dst);
  }
  for (const auto& s : args[0].vector) {
    std::string joined;
    for (std::size_t i = 0; i < srcs.size(); ++i) {
      if (i) joined += sep;
      joined += s.metric.Get(srcs[i]);
    }
    Labels m = s.metric;
    if (joined.empty()) {
      m.Remove(dst);
    } else {
      m.Set(dst, joined);
    }
    out->push_back(Sample{std::move(m), s.v, ts});
  }
  return Status::Ok();
}

// Prometheus 2.42's holt_winters (double exponential smoothing): nullopt under two points.
std::optional<double> HoltWinters(const std::vector<Point>& pts, double sf, double tf) {
  if (pts.size() < 2) return std::nullopt;
  double s0 = 0, s1 = pts[0].v, b = pts[1].v - pts[0].v;
  for (std::size_t i = 1; i < pts.size(); ++i) {
    const double x = sf * pts[i].v;
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;  // the trend, from the second step on
    const double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

// A time as Go's time.Unix(int64(seconds), 0).UTC() sees it (proleptic Gregorian, UTC).
struct CivilTime {
  std::int64_t year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  int hour = 0, minute = 0;
  int weekday = 4;  // 0 = Sunday
  int yearday = 1;  // 1-366
  int days_in_month = 31;
};

CivilTime ToCivil(double seconds) {
  // Go converts with truncation; beyond +-2^62 s (or NaN) the conversion is undefined in C++,
  // so such values read as the epoch (Prometheus gives values of Go's overflowed arithmetic).
  std::int64_t secs = 0;
  if (std::isfinite(seconds) && std::fabs(seconds) < 4.6e18) {
    secs = static_cast<std::int64_t>(seconds);
  }
  auto floor_div = [](std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
  };
  const std::int64_t days = floor_div(secs, 86400);
  const std::int64_t rem = secs - days * 86400;
  CivilTime c;
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem % 3600 / 60);
  c.weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);
  // Days to civil date (H. Hinnant's algorithm, eras of 400 years).
  const std::int64_t z = days + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  const bool leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
  static constexpr int kDaysBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  c.yearday = kDaysBefore[c.month - 1] + c.day + (leap && c.month > 2 ? 1 : 0);
  c.days_in_month = kDaysIn[c.month - 1] + (leap && c.month == 2 ? 1 : 0);
  return c;
}

}  // namespace

Labels DropMetricName(const Labels& l) {
  Labels out = l;
  out.Remove("__name__");
  return out;
}

double Quantile(double q, std::vector<double> values) {
  if (values.empty() || std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<std::size_t>(lower)] * (1 - weight) +
         values[static_cast<std::size_t>(upper)] * weight;
}

std::optional<double> CallRangeFunction(Func func, const std::vector<Point>& pts,
                                        const RangeContext& ctx,
                                        const std::vector<double>& scalar_args) {
  bool ok = false;
  switch (func) {
    case Func::kRate:
    case Func::kIncrease:
    case Func::kDelta: {
      double v = ExtrapolatedRate(pts, ctx, func != Func::kDelta, func == Func::kRate, &ok);
      if (!ok) return std::nullopt;
      return v;
    }
    case Func::kIrate:
      return InstantValue(pts, true);
    case Func::kIdelta:
      return InstantValue(pts, false);
    case Func::kDeriv: {
      if (pts.size() < 2) return std::nullopt;
      double slope, intercept;
      LinearRegression(pts, pts[0].t, &slope, &intercept);
      return slope;
    }
    case Func::kPredictLinear: {
      if (pts.size() < 2) return std::nullopt;
      double slope, intercept;
      LinearRegression(pts, ctx.ts, &slope, &intercept);
      return slope * scalar_args.at(0) + intercept;
    }
    case Func::kHoltWinters:
      return HoltWinters(pts, scalar_args.at(0), scalar_args.at(1));
    case Func::kChanges:
    case Func::kResets: {
      int n = 0;
      double prev = pts[0].v;
      for (std::size_t i = 1; i < pts.size(); ++i) {
        double cur = pts[i].v;
        if (func == Func::kChanges) {
          if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) ++n;
        } else if (cur < prev) {
          ++n;
        }
        prev = cur;
      }
      return static_cast<double>(n);
    }
    case Func::kAvgOverTime: {
      double mean = 0, count = 0, c = 0;
      for (const auto& p : pts) {
        count++;
        if (std::isinf(mean)) {
          if (std::isinf(p.v) && (mean > 0) == (p.v > 0)) continue;
          if (!std::isinf(p.v) && !std::isnan(p.v)) continue;
        }
        KahanInc(p.v / count - mean / count, &mean, &c);
      }
      if (std::isinf(mean)) return mean;
      return mean + c;
    }
    case Func::kSumOverTime: {
      double sum = 0, c = 0;
      for (const auto& p : pts) KahanInc(p.v, &sum, &c);
      if (std::isinf(sum)) return sum;
      return sum + c;
    }
    case Func::kCountOverTime:
      return static_cast<double>(pts.size());
    case Func::kMinOverTime:
    case Func::kMaxOverTime: {
      double m = pts[0].v;
      const bool is_max = func == Func::kMaxOverTime;
      for (const auto& p : pts) {
        if ((is_max ? p.v > m : p.v < m) || std::isnan(m)) m = p.v;
      }
      return m;
    }
    case Func::kLastOverTime:
      return pts.back().v;
    case Func::kPresentOverTime:
      return 1.0;
    case Func::kQuantileOverTime: {
      std::vector<double> vals;
      vals.reserve(pts.size());
      for (const auto& p : pts) vals.push_back(p.v);
      return Quantile(scalar_args.at(0), std::move(vals));
    }
    case Func::kStddevOverTime:
    case Func::kStdvarOverTime: {
      double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
      for (const auto& p : pts) {
        count++;
        double delta = p.v - (mean + c_mean);
        KahanInc(delta / count, &mean, &c_mean);
        KahanInc(delta * (p.v - (mean + c_mean)), &aux, &c_aux);
      }
      double var = (aux + c_aux) / count;
      return func == Func::kStddevOverTime ? std::sqrt(var) : var;
    }
    default:
      return std::nullopt;
  }
}

Status CheckRangeFunctionArgs(Func func, const std::vector<double>& scalar_args) {
  if (func != Func::kHoltWinters) return Status::Ok();
  // Prometheus' words and Go's %f.
  char buf[128];
  const double sf = scalar_args.at(0), tf = scalar_args.at(1);
  if (!(sf > 0 && sf < 1)) {
    std::snprintf(buf, sizeof(buf), "invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf);
    return Status::InvalidArgument(buf);
  }
  if (!(tf > 0 && tf < 1)) {
    std::snprintf(buf, sizeof(buf), "invalid trend factor. Expected: 0 < tf < 1, got: %f", tf);
    return Status::InvalidArgument(buf);
  }
  return Status::Ok();
}

Status CallVectorFunction(const Call& call, std::vector<Value>& args, TimestampMs ts, Vector* out) {
  auto simple = [&](double (*fn)(double)) {
    for (const auto& s : args[0].vector) {
      out->push_back(Sample{DropMetricName(s.metric), fn(s.v), ts});
    }
    return Status::Ok();
  };
  auto date = [&](double (*fn)(const CivilTime&)) {
    if (args.empty()) {
      out->push_back(Sample{Labels{}, fn(ToCivil(static_cast<double>(ts / 1000))), ts});
      return Status::Ok();
    }
    for (const auto& s : args[0].vector) {
      out->push_back(Sample{DropMetricName(s.metric), fn(ToCivil(s.v)), ts});
    }
    return Status::Ok();
  };
  switch (call.func->id) {
    case Func::kAbs:
      return simple([](double v) { return std::fabs(v); });
    case Func::kCeil:
      return simple([](double v) { return std::ceil(v); });
    case Func::kFloor:
      return simple([](double v) { return std::floor(v); });
    case Func::kExp:
      return simple([](double v) { return std::exp(v); });
    case Func::kSqrt:
      return simple([](double v) { return std::sqrt(v); });
    case Func::kLn:
      return simple([](double v) { return std::log(v); });
    case Func::kLog2:
      return simple([](double v) { return std::log2(v); });
    case Func::kLog10:
      return simple([](double v) { return std::log10(v); });
    case Func::kSgn:
      return simple([](double v) { return v < 0 ? -1.0 : v > 0 ? 1.0 : v; });
    case Func::kAcos:
      return simple([](double v) { return std::acos(v); });
    case Func::kAcosh:
      return simple([](double v) { return std::acosh(v); });
    case Func::kAsin:
      return simple([](double v) { return std::asin(v); });
    case Func::kAsinh:
      return simple([](double v) { return std::asinh(v); });
    case Func::kAtan:
      return simple([](double v) { return std::atan(v); });
    case Func::kAtanh:
      return simple([](double v) { return std::atanh(v); });
    case Func::kCos:
      return simple([](double v) { return std::cos(v); });
    case Func::kCosh:
      return simple([](double v) { return std::cosh(v); });
    case Func::kSin:
      return simple([](double v) { return std::sin(v); });
    case Func::kSinh:
      return simple([](double v) { return std::sinh(v); });
    case Func::kTan:
      return simple([](double v) { return std::tan(v); });
    case Func::kTanh:
      return simple([](double v) { return std::tanh(v); });
    case Func::kDeg:
      return simple([](double v) { return v * 180 / M_PI; });
    case Func::kRad:
      return simple([](double v) { return v * M_PI / 180; });
    case Func::kDayOfMonth:
      return date([](const CivilTime& c) { return static_cast<double>(c.day); });
    case Func::kDayOfWeek:
      return date([](const CivilTime& c) { return static_cast<double>(c.weekday); });
    case Func::kDayOfYear:
      return date([](const CivilTime& c) { return static_cast<double>(c.yearday); });
    case Func::kDaysInMonth:
      return date([](const CivilTime& c) { return static_cast<double>(c.days_in_month); });
    case Func::kHour:
      return date([](const CivilTime& c) { return static_cast<double>(c.hour); });
    case Func::kMinute:
      return date([](const CivilTime& c) { return static_cast<double>(c.minute); });
    case Func::kMonth:
      return date([](const CivilTime& c) { return static_cast<double>(c.month); });
    case Func::kYear:
      return date([](const CivilTime& c) { return static_cast<double>(c.year); });
    case Func::kHistogramCount:
    case Func::kHistogramSum:
    case Func::kHistogramFraction:
      // These read native histogram samples only, and skip float samples (Prometheus 2.42's
      // funcHistogramCount & co.); vigil stores floats only, so they return an empty vector,
      // as Prometheus does over the same data.
      return Status::Ok();
    case Func::kRound: {
      double to_nearest = args.size() > 1 ? args[1].scalar : 1;
      double inv = 1.0 / to_nearest;
      for (const auto& s : args[0].vector) {
        out->push_back(Sample{DropMetricName(s.metric), std::floor(s.v * inv + 0.5) / inv, ts});
      }
      return Status::Ok();
    }
    case Func::kClamp: {
      double lo = args[1].scalar, hi = args[2].scalar;
      if (hi < lo) return Status::Ok();
      for (const auto& s : args[0].vector) {
        out->push_back(Sample{DropMetricName(s.metric), GoMax(lo, GoMin(hi, s.v)), ts});
      }
      return Status::Ok();
    }
    case Func::kClampMin:
    case Func::kClampMax: {
      double b = args[1].scalar;
      for (const auto& s : args[0].vector) {
        double v = call.func->id == Func::kClampMin ? GoMax(s.v, b) : GoMin(s.v, b);
        out->push_back(Sample{DropMetricName(s.metric), v, ts});
      }
      return Status::Ok();
    }
    case Func::kTimestamp:
      for (const auto& s : args[0].vector) {
        out->push_back(Sample{DropMetricName(s.metric), static_cast<double>(s.t) / 1000, ts});
      }
      return Status::Ok();
    case Func::kVector:
      out->push_back(Sample{Labels{}, args[0].scalar, ts});
      return Status::Ok();
    case Func::kSort:
    case Func::kSortDesc: {
      Vector v = args[0].vector;
      const bool desc = call.func->id == Func::kSortDesc;
      std::stable_sort(v.begin(), v.end(), [desc](const Sample& a, const Sample& b) {
        if (std::isnan(a.v)) return false;
        if (std::isnan(b.v)) return true;
        return desc ? a.v > b.v : a.v < b.v;
      });
      for (auto& s : v) {
        s.t = ts;
        out->push_back(std::move(s));
      }
      return Status::Ok();
    }
    case Func::kHistogramQuantile:
      return HistogramQuantile(args, ts, out);
    case Func::kLabelReplace:
      return LabelReplace(args, ts, out);
    case Func::kLabelJoin:
      return LabelJoin(args, ts, out);
    default:
      // Range functions, scalar(), time(), pi() and absent() are the engine's.
      return Status::Internal(std::string("not an instant-vector function: ") + call.func->name);
  }
}

}  // namespace vigil::promql
