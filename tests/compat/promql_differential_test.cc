// Differential test: the same synthetic data in a real Prometheus 2.42 (backfilled with
// promtool) and in vigil's MemoryStorage; hundreds of queries at several times must give the
// same label sets and values (relative 1e-5, NaN == NaN) or both fail.
#include <httplib.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rules/promql/api_json.h"
#include "rules/promql/engine.h"
#include "rules/promql/memory_storage.h"
#include "rules/promql/openmetrics_loader.h"
#include "tests/compat/prometheus_process.h"

namespace vigil::promql::testing {
namespace {

constexpr std::int64_t kT0 = 1700000000;  // seconds
constexpr int kSamples = 480;             // 2 h at 15 s
constexpr int kStep = 15;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t Next() {
    s_ = s_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return s_ >> 33;
  }
  int Int(int n) { return static_cast<int>(Next() % static_cast<std::uint64_t>(n)); }
  double Real() { return static_cast<double>(Next() % 1000000) / 1000000.0; }

 private:
  std::uint64_t s_;
};

struct Writer {
  std::ostringstream out;
  Rng rng{42};
  void Sample(const std::string& series, double v, std::int64_t ts) {
    out << series << " ";
    if (std::isnan(v)) {
      out << "NaN";
    } else {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", v);
      out << buf;
    }
    out << " " << ts << "\n";
  }
  std::int64_t Ts(int i, int jitter_seed) const {
    return kT0 + static_cast<std::int64_t>(i) * kStep + (i * 7 + jitter_seed) % 3;
  }
};

std::string GenerateData() {
  Writer w;
  const char* jobs[] = {"api", "web"};
  int seed = 0;
  for (const char* job : jobs) {
    for (int inst = 0; inst < 3; ++inst) {
      for (const char* code : {"200", "500"}) {
        std::string s = std::string("http_requests_total{job=\"") + job + "\",instance=\"" +
                        std::to_string(inst) + "\",code=\"" + code + "\"}";
        double v = w.rng.Int(1000);
        ++seed;
        for (int i = 0; i < kSamples; ++i) {
          bool reset = (job == std::string("api") && inst == 1 && i == 200) ||
                       (job == std::string("web") && inst == 2 && (i == 100 || i == 350));
          if (reset) v = w.rng.Int(5);
          w.Sample(s, v, w.Ts(i, seed));
          v += code == std::string("200") ? w.rng.Int(21) : w.rng.Int(4);
        }
      }
    }
  }
  const double les[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  for (const char* job : jobs) {
    for (int inst = 0; inst < 3; ++inst) {
      ++seed;
      std::string base =
          std::string("job=\"") + job + "\",instance=\"" + std::to_string(inst) + "\"";
      std::vector<double> counts(8, 0);
      double sum = 0;
      std::vector<std::vector<double>> rows;
      std::vector<double> sums;
      for (int i = 0; i < kSamples; ++i) {
        int n = w.rng.Int(11);
        for (int k = 0; k < n; ++k) {
          double obs = w.rng.Real() * w.rng.Real() * 6;
          sum += obs;
          for (int b = 0; b < 8; ++b) {
            if (b == 7 || obs <= les[b]) counts[b] += 1;
          }
        }
        rows.push_back(counts);
        sums.push_back(sum);
      }
      for (int b = 0; b < 8; ++b) {
        char le[32];
        if (b == 7) {
          std::snprintf(le, sizeof(le), "+Inf");
        } else {
          std::snprintf(le, sizeof(le), "%g", les[b]);
        }
        std::string s = "http_request_duration_seconds_bucket{" + base + ",le=\"" + le + "\"}";
        for (int i = 0; i < kSamples; ++i) w.Sample(s, rows[i][b], w.Ts(i, seed));
      }
      for (int i = 0; i < kSamples; ++i) {
        w.Sample("http_request_duration_seconds_sum{" + base + "}", sums[i], w.Ts(i, seed));
      }
      for (int i = 0; i < kSamples; ++i) {
        w.Sample("http_request_duration_seconds_count{" + base + "}", rows[i][7], w.Ts(i, seed));
      }
    }
  }
  for (const char* job : jobs) {
    for (int inst = 0; inst < 3; ++inst) {
      ++seed;
      std::string labels =
          std::string("{job=\"") + job + "\",instance=\"" + std::to_string(inst) + "\"}";
      double v = 1e6 + w.rng.Int(100000);
      for (int i = 0; i < kSamples; ++i) {
        w.Sample("memory_bytes" + labels, v, w.Ts(i, seed));
        v += (w.rng.Real() - 0.5) * 20000;
      }
      for (int i = 0; i < kSamples; ++i)
        w.Sample("memory_limit_bytes" + labels, 4e6, w.Ts(i, seed));
      for (int i = 0; i < kSamples; ++i) {
        bool down = (inst == 2 && i > 150 && i < 170) || (job == std::string("web") && i > 400);
        w.Sample("up" + labels, down ? 0 : 1, w.Ts(i, seed));
      }
    }
  }
  for (const char* site : {"a", "b", "c"}) {
    ++seed;
    double v = w.rng.Real() * 10 - 5;
    for (int i = 0; i < kSamples; ++i) {
      w.Sample(std::string("temperature_celsius{site=\"") + site + "\"}", v, w.Ts(i, seed));
      v += w.rng.Real() - 0.5;
    }
  }
  for (int inst = 0; inst < 2; ++inst) {
    ++seed;
    for (int i = 0; i < kSamples; ++i) {
      if (inst == 0 && i >= 100 && i < 140) continue;  // a 10 minute gap
      if (inst == 1 && i > 300) break;                 // the series ends
      w.Sample("flaky_gauge{instance=\"" + std::to_string(inst) + "\"}", w.rng.Int(100),
               w.Ts(i, seed));
    }
  }
  ++seed;
  {
    double v = 0;
    for (int i = 240; i < kSamples; ++i) {
      w.Sample("late_counter_total{job=\"batch\"}", v, w.Ts(i, seed));
      v += w.rng.Int(50);
    }
  }
  for (int q = 1; q <= 4; ++q) {
    ++seed;
    for (int i = 0; i < kSamples; ++i) {
      w.Sample("queue_size{queue=\"q" + std::to_string(q) + "\"}", w.rng.Int(6), w.Ts(i, seed));
    }
  }
  ++seed;
  for (int i = 0; i < kSamples; ++i) {
    w.Sample("nan_gauge{k=\"1\"}", i % 2 ? std::nan("") : 1.0, w.Ts(i, seed));
  }
  for (int i = 0; i < kSamples; ++i) w.Sample("nan_gauge{k=\"2\"}", 2, w.Ts(i, seed));
  w.out << "# EOF\n";
  return w.out.str();
}

std::vector<std::string> Queries() {
  std::vector<std::string> q;
  const std::vector<std::string> counters = {
      "http_requests_total", "http_requests_total{code=\"500\"}", "late_counter_total",
      "http_request_duration_seconds_count"};
  const std::vector<std::string> gauges = {"memory_bytes", "temperature_celsius", "flaky_gauge",
                                           "queue_size"};
  const std::vector<std::string> ranges = {"1m", "5m", "12m"};
  for (const char* f : {"rate", "increase", "irate", "resets"}) {
    for (const auto& c : counters) {
      for (const auto& r : ranges) q.push_back(std::string(f) + "(" + c + "[" + r + "])");
    }
  }
  for (const char* f : {"delta", "idelta", "deriv", "changes", "avg_over_time", "min_over_time",
                        "max_over_time", "sum_over_time", "count_over_time", "last_over_time",
                        "stddev_over_time", "stdvar_over_time", "present_over_time"}) {
    for (const auto& g : gauges) {
      for (const auto& r : ranges) q.push_back(std::string(f) + "(" + g + "[" + r + "])");
    }
  }
  for (const auto& g : gauges) {
    q.push_back("predict_linear(" + g + "[10m], 3600)");
    for (const char* quant : {"0", "0.5", "0.9", "1", "1.5"}) {
      q.push_back(std::string("quantile_over_time(") + quant + ", " + g + "[10m])");
    }
  }
  for (const char* s : {"absent_over_time(flaky_gauge{instance=\"0\"}[5m])",
                        "absent_over_time(nonexistent{job=\"x\", a=~\"b\"}[5m])",
                        "absent(flaky_gauge)",
                        "absent(nonexistent{job=\"x\", instance=\"y\", z!=\"w\"})",
                        "absent(up)",
                        "rate(http_requests_total[5m] offset 10m)",
                        "increase(http_requests_total[30m] offset 1h)",
                        "http_requests_total offset 90m",
                        "memory_bytes offset 3m",
                        "timestamp(memory_bytes)",
                        "timestamp(flaky_gauge)",
                        "timestamp(memory_bytes offset 7m)",
                        "time()",
                        "vector(time())",
                        "scalar(up{job=\"api\",instance=\"0\"})",
                        "scalar(up)",
                        "vector(1) + scalar(memory_bytes{instance=\"0\", job=\"api\"})",
                        "last_over_time(memory_bytes[5m])",
                        "sort(memory_bytes)",
                        "sort_desc(memory_bytes)",
                        "sort(rate(http_requests_total{code=\"200\"}[5m]))",
                        "round(temperature_celsius)",
                        "round(temperature_celsius, 0.25)",
                        "round(memory_bytes, 1000)",
                        "floor(temperature_celsius)",
                        "ceil(temperature_celsius)",
                        "abs(temperature_celsius)",
                        "sqrt(temperature_celsius)",
                        "exp(temperature_celsius)",
                        "ln(memory_bytes)",
                        "log2(memory_bytes)",
                        "log10(temperature_celsius)",
                        "clamp(temperature_celsius, -1, 1)",
                        "clamp(temperature_celsius, 1, -1)",
                        "clamp_min(temperature_celsius, 0)",
                        "clamp_max(temperature_celsius, 0)",
                        "label_replace(up, \"host\", \"h-$1\", \"instance\", \"(.*)\")",
                        "label_replace(up, \"job\", \"\", \"job\", \"api\")",
                        "label_replace(up, \"x\", \"$1$2\", \"job\", \"(a)(p)?.*\")",
                        "label_replace(up, \"instance\", \"same\", \"instance\", \".*\")",
                        "label_replace(up, \"1bad\", \"x\", \"job\", \".*\")",
                        "label_join(up, \"id\", \"/\", \"job\", \"instance\")",
                        "label_join(up, \"job\", \"\", \"nolabel\")",
                        "nan_gauge",
                        "sum(nan_gauge)",
                        "max(nan_gauge)",
                        "min(nan_gauge)",
                        "avg(nan_gauge)",
                        "nan_gauge > 0",
                        "nan_gauge == bool nan_gauge",
                        "count_values(\"v\", nan_gauge)",
                        "avg_over_time(nan_gauge[1m])",
                        "max_over_time(nan_gauge[2m])",
                        "changes(nan_gauge[5m])",
                        "memory_bytes{instance=\"0\"}[1m]",
                        "flaky_gauge[2m]",
                        "up == 0",
                        "up{job=~\"a.*\"}",
                        "up{job=~\"a\"}",
                        "up{job!~\"api|x\"}",
                        "{__name__=~\"up|memory_limit_bytes\", instance=\"1\"}",
                        "{__name__=~\"memory_.*\", job=\"web\", instance!=\"0\"}",
                        "up{nolabel=\"\"}",
                        "up{job=\"\"}",
                        "http_requests_total{code=~\"5..\"}",
                        "temperature_celsius{site=~\"a|c\"}"}) {
    q.push_back(s);
  }
  const std::vector<std::string> inputs = {"rate(http_requests_total[5m])", "memory_bytes",
                                           "temperature_celsius"};
  const std::vector<std::string> groupings = {"", " by (job)", " without (instance)",
                                              " by (code, job)"};
  for (const char* op : {"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"}) {
    for (const auto& in : inputs) {
      for (const auto& g : groupings) q.push_back(std::string(op) + g + " (" + in + ")");
    }
  }
  for (const auto& in : inputs) {
    q.push_back("topk(3, " + in + ")");
    q.push_back("bottomk by (job) (2, " + in + ")");
    q.push_back("topk(1, " + in + ") by (code)");
    q.push_back("quantile(0.5, " + in + ")");
    q.push_back("quantile by (job) (0.9, " + in + ")");
    q.push_back("quantile(1.5, " + in + ")");
    q.push_back("topk(-1, " + in + ")");
  }
  for (const char* s :
       {"count_values(\"v\", queue_size)", "count_values by (queue) (\"v\", queue_size)",
        "count_values without (queue) (\"queue\", queue_size)",
        "count_values(\"bad-name\", queue_size)", "sum by (__name__) ({__name__=~\"memory_.*\"})",
        "count by (le) (http_request_duration_seconds_bucket)",
        "topk(scalar(up{job=\"api\",instance=\"0\"}) + 1, memory_bytes)"}) {
    q.push_back(s);
  }
  for (const char* quant : {"0", "0.25", "0.5", "0.9", "0.99", "1", "1.5", "-0.5"}) {
    q.push_back(std::string("histogram_quantile(") + quant +
                ", sum by (le) (rate(http_request_duration_seconds_bucket[5m])))");
    q.push_back(std::string("histogram_quantile(") + quant +
                ", rate(http_request_duration_seconds_bucket{job=\"api\"}[10m]))");
  }
  for (const char* s :
       {"histogram_quantile(0.9, sum by (le, job) "
        "(rate(http_request_duration_seconds_bucket[5m])))",
        "histogram_quantile(0.9, http_request_duration_seconds_bucket)",
        "histogram_quantile(0.5, http_request_duration_seconds_bucket{le!=\"+Inf\"})",
        "histogram_quantile(0.5, sum without (instance) "
        "(rate(http_request_duration_seconds_bucket[1m])))",
        "rate(http_request_duration_seconds_sum[5m]) / "
        "rate(http_request_duration_seconds_count[5m])",
        "sum(rate(http_requests_total{code=\"500\"}[5m])) / sum(rate(http_requests_total[5m]))",
        "sum by (job) (rate(http_requests_total{code=\"500\"}[5m])) / sum by (job) "
        "(rate(http_requests_total[5m])) > 0.05",
        "memory_bytes / memory_limit_bytes",
        "memory_bytes / on(job, instance) memory_limit_bytes",
        "memory_bytes / ignoring(job) memory_limit_bytes",
        "memory_bytes > 1e6",
        "memory_bytes > bool 1e6",
        "1e6 < memory_bytes",
        "1e6 >= bool memory_bytes",
        "memory_bytes == memory_bytes",
        "memory_bytes != bool memory_limit_bytes",
        "memory_bytes % 1000",
        "memory_bytes ^ 0.5",
        "-memory_bytes",
        "-temperature_celsius ^ 2",
        "2 ^ 3 ^ 2",
        "-2 ^ 2",
        "10 % 3",
        "1 / 0",
        "-1 / 0",
        "0 / 0",
        "1 > bool 2",
        "(1 + 2) * 3 - 4 / 8",
        "memory_bytes / on(job) group_left sum by (job) (memory_limit_bytes)",
        "sum by (job) (memory_limit_bytes) / on(job) group_right memory_bytes",
        "memory_bytes * on(job, instance) group_left(site) up",
        "up * on(instance) group_left(site) label_replace(temperature_celsius, \"instance\", "
        "\"$1\", \"site\", \"a\")",
        "memory_bytes + on(job) memory_limit_bytes",
        "sum by (job) (memory_bytes) + on(job) group_left memory_bytes",
        "memory_bytes and up == 1",
        "memory_bytes unless up == 0",
        "memory_bytes and on(instance) flaky_gauge",
        "memory_bytes unless on(instance) flaky_gauge",
        "flaky_gauge or memory_bytes",
        "flaky_gauge or on(instance) memory_bytes",
        "up == 0 or vector(0)",
        "nonexistent or vector(1)",
        "memory_bytes and nonexistent",
        "{__name__=~\"memory_bytes|memory_limit_bytes\"} / 2",
        "{__name__=~\"memory_bytes|memory_limit_bytes\"} > 2",
        "rate({__name__=~\"http_requests_total|late_counter_total\"}[5m])",
        "sum(memory_bytes) / count(memory_bytes)",
        "avg(memory_bytes) - sum(memory_bytes) / count(memory_bytes)",
        "up + 1 > bool 1",
        "(up + 1) * on() group_left vector(2)",
        "time() - timestamp(memory_bytes)",
        "predict_linear(memory_bytes[30m], 4 * 3600) < 4e6",
        "deriv(memory_bytes[30m]) * 3600",
        "changes(up[30m]) > 0",
        "resets(http_requests_total[2h])",
        "increase(http_requests_total[2h])",
        "rate(late_counter_total[2h])",
        "irate(http_requests_total{job=\"web\",instance=\"2\"}[1m])",
        "max_over_time(up[1h]) - min_over_time(up[1h])",
        "avg_over_time(flaky_gauge[30m])",
        "count_over_time(flaky_gauge[30m])",
        "absent_over_time(flaky_gauge[30m])",
        "rate(memory_bytes)",
        "sum(",
        "foo bar",
        "sum(memory_bytes) by",
        "memory_bytes[5m] + 1",
        "http_requests_total{job=~\"(\"}",
        "{job=~\".*\"}",
        "up and 1",
        "1 and up",
        "up + on(job) group_left(instance) up",
        "label_join(up, \"a-b\", \"x\", \"job\")"}) {
    q.push_back(s);
  }
  return q;
}

// The language beyond selectors and functions of one evaluation time: subqueries (with and
// without a step, nested, with offset and `@`, steps that do not divide the scrape interval or
// the range), the `@` modifier with times, start() and end(), and the functions, operators and
// argument forms added to vigil's table to close the difference with Prometheus 2.42's.
std::vector<std::string> LanguageQueries() {
  std::vector<std::string> q;
  const std::vector<std::string> inners = {"rate(http_requests_total[5m])",
                                           "memory_bytes",
                                           "flaky_gauge",
                                           "up",
                                           "sum by (job) (rate(http_requests_total[1m]))",
                                           "deriv(memory_bytes[10m])"};
  const std::vector<std::string> outers = {
      "max_over_time",  "min_over_time",    "avg_over_time", "sum_over_time", "count_over_time",
      "last_over_time", "stddev_over_time", "rate",          "deriv",         "changes"};
  const std::vector<std::string> specs = {"[5m:1m]", "[10m:]", "[17m:43s]", "[1h:5m] offset 10m"};
  for (const auto& in : inners) {
    for (const auto& f : outers) {
      for (const auto& sp : specs) q.push_back(f + "((" + in + ")" + sp + ")");
    }
  }
  for (const char* s :
       {// Bare subqueries: a matrix whose points sit on multiples of the step.
        "memory_bytes[5m:1m]", "memory_bytes{instance=\"0\"}[5m:5s]",
        "rate(http_requests_total{code=\"500\"}[1m])[10m:2m]", "flaky_gauge[20m:3m]",
        "up{job=\"web\"}[7m:]", "memory_bytes[5m:1m] offset 3m", "memory_bytes[5m:1m] offset -2m",
        "memory_bytes[5m:1m] @ 1700003000", "memory_bytes[5m:1m] @ 1700003000 offset 1m",
        "memory_bytes[5m:1m] offset 1m @ 1700003000", "temperature_celsius[90s:7s]",
        "sum(memory_bytes)[10m:90s]", "(memory_bytes > 1e6)[5m:1m]", "-memory_bytes[5m:1m]",
        "late_counter_total[30m:10m]", "nonexistent[5m:1m]", "vector(1)[3m:1m]", "time()[5m:1m]",
        "memory_bytes[0s:1m]", "memory_bytes[5m:0s]", "memory_bytes[0s]", "memory_bytes offset 0s",
        "memory_bytes @ 0", "memory_bytes[1m:5m]",
        // Nested subqueries, and subqueries under functions of more arguments.
        "max_over_time(deriv(rate(http_requests_total[1m])[5m:1m])[10m:])",
        "min_over_time(max_over_time(memory_bytes[5m:1m])[15m:5m])",
        "avg_over_time(avg_over_time(avg_over_time(temperature_celsius[2m:30s])[4m:1m])[8m:2m])",
        "quantile_over_time(0.9, rate(http_requests_total[2m])[30m:1m])",
        "quantile_over_time(0.5, memory_bytes[1h:7m])",
        "predict_linear(memory_bytes[30m:1m], 3600)",
        "holt_winters(memory_bytes[30m:1m], 0.3, 0.6)", "absent_over_time(nonexistent[5m:1m])",
        "absent_over_time(memory_bytes[5m:1m])", "present_over_time(flaky_gauge[10m:1m])",
        "increase(http_requests_total[10m:1m])", "resets(http_requests_total[2h:1m])",
        "irate(http_requests_total[10m:1m])", "idelta(memory_bytes[10m:1m])",
        "delta(memory_bytes[10m:1m])", "topk(2, max_over_time(memory_bytes[30m:1m]))",
        "sum by (job) (count_over_time(up[30m:1m]))",
        "max_over_time(memory_bytes[10m:1m] @ 1700004000)",
        "max_over_time(memory_bytes[10m:1m] @ start())",
        "max_over_time(memory_bytes[10m:1m] @ end() offset 5m)",
        "rate(http_requests_total[5m:30s] offset 20m)",
        "max_over_time((memory_bytes @ 1700002000)[5m:1m])",
        "sum_over_time((memory_bytes offset 5m)[5m:1m])",
        "max_over_time(rate(http_requests_total[1m] @ 1700003000)[5m:1m])",
        // @ on instant and range selectors: times, fractions, start(), end(), with offsets
        // in either order, before the data and past its end.
        "memory_bytes @ 1700001000", "memory_bytes @ 1700001000.5", "memory_bytes @ start()",
        "memory_bytes @ end()", "memory_bytes @ 1700001000 offset 5m",
        "memory_bytes offset 5m @ 1700001000", "memory_bytes @ 1699999000",
        "memory_bytes @ 1700009000", "flaky_gauge @ 1700002000", "flaky_gauge @ 1700002100",
        "flaky_gauge @ 1700004600", "flaky_gauge @ 1700004800", "up @ 1700006100",
        "http_requests_total @ 1700003600", "http_requests_total{code=\"200\"} @ end()",
        "memory_bytes @ 1700003600 offset -10m", "memory_bytes @ 1.7000036e9",
        "memory_bytes @ 0x6553f100", "late_counter_total @ 1700003600",
        "late_counter_total @ 1700003700", "rate(http_requests_total[5m] @ 1700002000)",
        "rate(http_requests_total[5m] @ 1700002000 offset 10m)",
        "increase(http_requests_total[10m] @ end())",
        "increase(http_requests_total[10m] @ start() offset 1m)",
        "max_over_time(memory_bytes[15m] @ 1700005000)",
        "count_over_time(flaky_gauge[30m] @ 1700002500)",
        "predict_linear(memory_bytes[30m] @ 1700003000, 600)",
        "deriv(memory_bytes[30m] @ 1700003000)",
        "absent_over_time(flaky_gauge{instance=\"0\"}[5m] @ 1700002000)",
        "timestamp(memory_bytes @ 1700002000)", "timestamp(flaky_gauge @ 1700002200)",
        "timestamp((memory_bytes))", "sum(memory_bytes @ 1700002000)",
        "memory_bytes - memory_bytes @ 1700002000",
        "memory_bytes / on(job, instance) (memory_limit_bytes @ start())",
        "topk(1, memory_bytes @ 1700004000)",
        "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m] @ 1700004000))",
        "absent(nonexistent @ 1700002000)",
        // Functions of 2.42's table vigil lacked.
        "sgn(temperature_celsius)", "sgn(vector(-3))", "sgn(vector(0))", "sgn(memory_bytes - 1e6)",
        "sgn(nan_gauge)", "deg(vector(pi()))", "rad(vector(180))", "deg(temperature_celsius)",
        "rad(temperature_celsius)", "pi()", "pi() * 2", "vector(pi())", "acos(vector(0.5))",
        "acos(temperature_celsius / 10)", "asin(temperature_celsius / 10)",
        "atan(temperature_celsius)", "atanh(temperature_celsius / 10)", "acosh(memory_bytes)",
        "asinh(temperature_celsius)", "cos(temperature_celsius)", "cosh(temperature_celsius)",
        "sin(temperature_celsius)", "sinh(temperature_celsius)", "tan(temperature_celsius)",
        "tanh(temperature_celsius)", "acos(vector(2))", "atanh(vector(1))", "cos(vector(Inf))",
        "sin(nan_gauge)", "vector(1) atan2 vector(2)", "1 atan2 2",
        "memory_bytes atan2 memory_limit_bytes", "temperature_celsius atan2 1",
        "1 atan2 temperature_celsius",
        "memory_bytes atan2 on(job) group_left sum by (job) (memory_limit_bytes)",
        "temperature_celsius atan2 temperature_celsius * 2", "2 * temperature_celsius atan2 3",
        "temperature_celsius atan2 bool 1", "holt_winters(memory_bytes[10m], 0.5, 0.5)",
        "holt_winters(memory_bytes[30m], 0.1, 0.9)",
        "holt_winters(temperature_celsius[1h], 0.9, 0.1)",
        "holt_winters(flaky_gauge[10m], 0.2, 0.2)", "holt_winters(memory_bytes[10m], 0, 0.5)",
        "holt_winters(memory_bytes[10m], 0.5, 1)", "holt_winters(nonexistent[10m], 0, 0)",
        "holt_winters(queue_size[20m], scalar(up{job=\"api\",instance=\"0\"}) / 2, 0.5)", "hour()",
        "minute()", "month()", "year()", "day_of_month()", "day_of_week()", "day_of_year()",
        "days_in_month()", "hour(timestamp(memory_bytes))", "minute(timestamp(memory_bytes))",
        "day_of_week(vector(1700000000))", "day_of_month(vector(951782400))",
        "days_in_month(vector(951782400))", "day_of_year(vector(978220800))",
        "days_in_month(vector(946684800))", "month(vector(978220800))", "year(vector(-86400))",
        "day_of_week(vector(-86400))", "hour(vector(-1))", "days_in_month(vector(4105123200))",
        "year(vector(1.5))", "minute(memory_bytes)", "hour(memory_bytes offset 1h)",
        "histogram_count(http_request_duration_seconds_bucket)",
        "histogram_sum(rate(http_request_duration_seconds_bucket[5m]))",
        "histogram_fraction(0, 0.5, http_request_duration_seconds_bucket)",
        // What must fail in both.
        "memory_bytes @ start", "memory_bytes @ 1 @ 2", "memory_bytes offset 1m offset 2m",
        "sum(memory_bytes) @ 1700001000", "rate(memory_bytes[5m:1m][5m:1m])", "1[5m:1m]",
        "memory_bytes[5m:1m:1m]", "(memory_bytes[5m])[5m:1m]", "memory_bytes[5m:-1m]",
        "memory_bytes @ Inf", "memory_bytes @ NaN", "memory_bytes @ \"x\"", "sgn()",
        "holt_winters(memory_bytes[5m], 0.5)", "hour(1)", "pi(1)", "atan2(1, 2)",
        "memory_bytes atan2", "histogram_fraction(0, memory_bytes)", "memory_bytes[5m:1m] + 1"}) {
    q.push_back(s);
  }
  return q;
}

bool Close(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  double d = std::fabs(a - b);
  return d <= 1e-5 * std::max(std::fabs(a), std::fabs(b)) || d < 1e-12;
}

double ParseProm(const std::string& s) {
  if (s == "NaN") return std::nan("");
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  return std::strtod(s.c_str(), nullptr);
}

Labels FromJson(const nlohmann::json& m) {
  Labels l;
  for (auto it = m.begin(); it != m.end(); ++it) l.Set(it.key(), it.value().get<std::string>());
  return l;
}

// Returns "" when vigil's answer equals Prometheus', otherwise a description.
std::string Compare(const std::string& query, const nlohmann::json& prom,
                    const Result<Value>& mine) {
  if (prom.value("status", "") != "success") {
    if (mine.ok()) return "Prometheus failed (" + prom.value("error", "") + "), vigil did not";
    return "";
  }
  if (!mine.ok()) return "vigil failed: " + mine.status().message();
  const auto& data = prom["data"];
  std::string type = data["resultType"];
  const Value& v = *mine;
  if (type == "scalar") {
    if (v.type != ValueType::kScalar) return "type differs: scalar";
    double want = ParseProm(data["result"][1].get<std::string>());
    return Close(want, v.scalar) ? ""
                                 : "scalar " + FormatValue(want) + " vs " + FormatValue(v.scalar);
  }
  if (type == "vector") {
    if (v.type != ValueType::kVector) return "type differs: vector";
    std::map<Labels, double> got;
    for (const auto& s : v.vector) got[s.metric] = s.v;
    if (got.size() != data["result"].size()) {
      std::string desc;
      for (const auto& s : v.vector) desc += " " + s.metric.ToString();
      return "size " + std::to_string(data["result"].size()) + " vs " + std::to_string(got.size()) +
             "; vigil:" + desc + "; prom: " + data["result"].dump().substr(0, 600);
    }
    bool ordered = query.rfind("sort", 0) == 0;
    std::size_t idx = 0;
    for (const auto& r : data["result"]) {
      Labels l = FromJson(r["metric"]);
      auto it = got.find(l);
      if (it == got.end()) return "missing " + l.ToString();
      double want = ParseProm(r["value"][1].get<std::string>());
      if (!Close(want, it->second)) {
        return l.ToString() + ": " + FormatValue(want) + " vs " + FormatValue(it->second);
      }
      if (ordered && v.vector[idx].metric != l) return "order differs at " + std::to_string(idx);
      ++idx;
    }
    return "";
  }
  if (type == "matrix") {
    if (v.type != ValueType::kMatrix) return "type differs: matrix";
    std::map<Labels, std::vector<Point>> got;
    for (const auto& s : v.matrix) got[s.metric] = s.points;
    if (got.size() != data["result"].size()) return "matrix size differs";
    for (const auto& r : data["result"]) {
      auto it = got.find(FromJson(r["metric"]));
      if (it == got.end()) return "missing series in matrix";
      if (it->second.size() != r["values"].size()) return "matrix point count differs";
      for (std::size_t i = 0; i < it->second.size(); ++i) {
        double t = r["values"][i][0].get<double>();
        if (std::llround(t * 1000) != it->second[i].t ||
            !Close(ParseProm(r["values"][i][1].get<std::string>()), it->second[i].v)) {
          return "matrix point differs";
        }
      }
    }
    return "";
  }
  return "unexpected result type " + type;
}

// Compares vigil's API JSON with Prometheus': same status and error type, same result type,
// same metrics and timestamps, values within tolerance (order-insensitive).
std::string CompareJson(const nlohmann::json& prom, const std::string& mine_text) {
  nlohmann::json mine = nlohmann::json::parse(mine_text, nullptr, false);
  if (mine.is_discarded()) return "vigil JSON does not parse: " + mine_text.substr(0, 200);
  if (prom["status"] != mine["status"]) return "JSON status differs";
  if (prom["status"] != "success") {
    return prom["errorType"] == mine["errorType"]
               ? ""
               : "errorType " + prom["errorType"].dump() + " vs " + mine["errorType"].dump();
  }
  const auto& pd = prom["data"];
  const auto& md = mine["data"];
  if (pd["resultType"] != md["resultType"]) return "JSON resultType differs";
  auto same_point = [](const nlohmann::json& a, const nlohmann::json& b) {
    return a[0].dump() == b[0].dump() &&
           Close(ParseProm(a[1].get<std::string>()), ParseProm(b[1].get<std::string>()));
  };
  if (pd["resultType"] == "scalar")
    return same_point(pd["result"], md["result"]) ? "" : "scalar JSON";
  if (pd["resultType"] == "string") return pd["result"] == md["result"] ? "" : "string JSON";
  std::map<std::string, nlohmann::json> by_metric;
  for (const auto& r : md["result"]) by_metric[r["metric"].dump()] = r;
  if (by_metric.size() != pd["result"].size()) return "JSON result size differs";
  for (const auto& r : pd["result"]) {
    auto it = by_metric.find(r["metric"].dump());
    if (it == by_metric.end()) return "JSON metric missing: " + r["metric"].dump();
    if (r.contains("value")) {
      if (!same_point(r["value"], it->second["value"])) {
        return "JSON value " + r["value"].dump() + " vs " + it->second["value"].dump();
      }
    } else {
      const auto& a = r["values"];
      const auto& b = it->second["values"];
      if (a.size() != b.size()) return "JSON values size differs";
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!same_point(a[i], b[i])) return "JSON point " + a[i].dump() + " vs " + b[i].dump();
      }
    }
  }
  return "";
}

TEST_CASE("PromQL answers equal Prometheus 2.42", "[promql][differential]") {
  char tmpl[] = "/tmp/vigil-promql-diff-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string data = GenerateData();
  std::ofstream(dir + "/data.om") << data;
  int rc = RunCommand(
      {"promtool", "tsdb", "create-blocks-from", "openmetrics", dir + "/data.om", dir + "/tsdb"},
      dir + "/promtool.log");
  INFO("promtool log: " << dir << "/promtool.log");
  REQUIRE(rc == 0);

  MemoryStorage storage;
  REQUIRE(LoadOpenMetrics(data, &storage).ok());
  REQUIRE(storage.SeriesCount() > 100);

  PrometheusProcess prom;
  std::string err = prom.Start(dir + "/tsdb", dir);
  INFO("prometheus: " << err);
  REQUIRE(err.empty());

  httplib::Client cli("127.0.0.1", prom.port());
  cli.set_read_timeout(30, 0);
  Engine engine;
  std::vector<std::string> queries = Queries();
  REQUIRE(queries.size() >= 300);
  const std::vector<std::string> language = LanguageQueries();
  REQUIRE(language.size() >= 300);
  queries.insert(queries.end(), language.begin(), language.end());
  const std::int64_t times[] = {kT0 + 1755, kT0 + 3661, kT0 + 7187, kT0 + 7465};
  int compared = 0, non_empty = 0, errors = 0;
  std::vector<std::string> failures;
  for (std::int64_t t : times) {
    for (const auto& q : queries) {
      httplib::Params params{{"query", q}, {"time", std::to_string(t)}};
      auto res = cli.Get("/api/v1/query", params, httplib::Headers{});
      REQUIRE(res);
      nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
      REQUIRE_FALSE(body.is_discarded());
      auto mine = engine.InstantQuery(storage, q, t * 1000);
      std::string diff = Compare(q, body, mine);
      if (diff.empty()) diff = CompareJson(body, FormatQueryResult(mine));
      ++compared;
      if (body.value("status", "") == "success" && body["data"]["result"].size() > 0) ++non_empty;
      if (body.value("status", "") != "success") ++errors;
      if (!diff.empty()) failures.push_back("t=" + std::to_string(t - kT0) + " " + q + ": " + diff);
    }
  }
  // Range queries: every third query over most of the data, with a step that does not divide
  // the scrape interval.
  int range_compared = 0;
  const std::int64_t start = kT0 + 600, end = kT0 + 7500, step = 97;
  for (std::size_t qi = 0; qi < queries.size(); qi += 3) {
    const std::string& q = queries[qi];
    httplib::Params params{{"query", q},
                           {"start", std::to_string(start)},
                           {"end", std::to_string(end)},
                           {"step", std::to_string(step)}};
    auto res = cli.Get("/api/v1/query_range", params, httplib::Headers{});
    REQUIRE(res);
    nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    auto mine = engine.RangeQuery(storage, q, start * 1000, end * 1000, step * 1000);
    std::string diff = Compare(q, body, mine);
    if (diff.empty()) diff = CompareJson(body, FormatQueryResult(mine));
    ++range_compared;
    if (!diff.empty()) failures.push_back("range " + q + ": " + diff);
  }
  prom.Stop();
  for (std::size_t i = 0; i < failures.size() && i < 40; ++i) UNSCOPED_INFO(failures[i]);
  INFO("queries: " << queries.size() << ", comparisons: " << compared
                   << ", failures: " << failures.size());
  CHECK(failures.empty());
  // The comparison means something only if most answers hold data.
  CHECK(non_empty > compared * 3 / 4);
  CHECK(errors > 10);
  if (failures.empty()) std::filesystem::remove_all(dir);
  WARN("range queries compared: " << range_compared);
  WARN("differential: " << queries.size() << " queries x 4 times = " << compared << " comparisons, "
                        << compared - static_cast<int>(failures.size()) << " equal; " << non_empty
                        << " non-empty, " << errors << " errors in both");
}

}  // namespace
}  // namespace vigil::promql::testing
