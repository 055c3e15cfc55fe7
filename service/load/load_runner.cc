#include "service/load/load_runner.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "service/load/latency_histogram.h"

namespace vigil::shop {
namespace {

using Clock = std::chrono::steady_clock;

enum Op {
  kGetProduct = 0,
  kListProducts,
  kSearch,
  kGetUser,
  kUserOrders,
  kCreateOrder,
  kSales,
  kGetHotProduct,  // uniform over the hot set only: every read is cacheable
  kOpCount
};

// Relative weights per operation.
struct Mix {
  int weights[kOpCount];
};

// get product, list, search, get user, user orders, create order, sales report
constexpr Mix kBrowse = {{75, 5, 5, 9, 5, 1, 0, 0}};
constexpr Mix kWithSlowQueries = {{60, 5, 5, 5, 5, 0, 20, 0}};
constexpr Mix kOnlySlowQueries = {{0, 0, 0, 0, 0, 0, 100, 0}};
constexpr Mix kOnlyCachedReads = {{0, 0, 0, 0, 0, 0, 0, 100}};

struct Phase {
  const char* name;
  double share;       // of the duration
  double multiplier;  // of the base rate (or of active connections in a closed loop)
  Mix mix;
  bool cold_products;      // uniform over the whole catalog instead of the hot set
  const char* admin_path;  // POSTed at the phase start, or nullptr
  const char* admin_body;
};

struct Scenario {
  const char* name;
  const char* help;
  std::vector<Phase> phases;
};

const std::vector<Scenario>& Scenarios() {
  static const std::vector<Scenario> kScenarios = {
      {"steady",
       "constant rate, browsing mix; baseline latency, cache hit ratio > 95%",
       {{"steady", 1, 1, kBrowse, false, nullptr, nullptr}}},
      {"stress",
       "rate doubles every fifth of the run (1x..16x); latency p95 climbs at saturation",
       {{"1x", 0.2, 1, kBrowse, false, nullptr, nullptr},
        {"2x", 0.2, 2, kBrowse, false, nullptr, nullptr},
        {"4x", 0.2, 4, kBrowse, false, nullptr, nullptr},
        {"8x", 0.2, 8, kBrowse, false, nullptr, nullptr},
        {"16x", 0.2, 16, kBrowse, false, nullptr, nullptr}}},
      {"spike",
       "base rate, a sudden 10x for a fifth of the run, base again; p95 and in-flight",
       {{"before", 0.4, 1, kBrowse, false, nullptr, nullptr},
        {"spike", 0.2, 10, kBrowse, false, nullptr, nullptr},
        {"after", 0.4, 1, kBrowse, false, nullptr, nullptr}}},
      {"soak",
       "constant rate for a long run (default 30 min); compare early and late phases",
       {{"early", 0.1, 1, kBrowse, false, nullptr, nullptr},
        {"middle", 0.8, 1, kBrowse, false, nullptr, nullptr},
        {"late", 0.1, 1, kBrowse, false, nullptr, nullptr}}},
      {"cache-flush",
       "flushes Redis and reads the cold catalog for a third of the run; cache hit ratio drops",
       {{"warm", 1.0 / 3, 1, kBrowse, false, nullptr, nullptr},
        {"flushed-cold", 1.0 / 3, 1, kBrowse, true, "/api/admin/cache/flush", "{}"},
        {"recovered", 1.0 / 3, 1, kBrowse, false, nullptr, nullptr}}},
      {"slow-query",
       "adds 20% unindexed sales aggregations; db_query_duration_seconds and API p95 rise",
       {{"baseline", 0.25, 1, kBrowse, false, nullptr, nullptr},
        {"slow-queries", 0.5, 1, kWithSlowQueries, false, nullptr, nullptr},
        {"baseline-again", 0.25, 1, kBrowse, false, nullptr, nullptr}}},
      {"pool-exhaustion",
       "every connection runs slow aggregations at once; pool pending, wait time, timeouts, 503",
       {{"baseline", 0.25, 1, kBrowse, false, nullptr, nullptr},
        {"exhaustion", 0.5, 8, kOnlySlowQueries, false, nullptr, nullptr},
        {"baseline-again", 0.25, 1, kBrowse, false, nullptr, nullptr}}},
      {"error-burst",
       "injects 20% HTTP 500s for the middle third (admin fault switch); 5xx ratio rises",
       {{"baseline", 1.0 / 3, 1, kBrowse, false, nullptr, nullptr},
        {"errors", 1.0 / 3, 1, kBrowse, false, "/api/admin/faults", R"({"error_percent":20})"},
        {"recovered", 1.0 / 3, 1, kBrowse, false, "/api/admin/faults", R"({"error_percent":0})"}}},
      {"cached-read",
       "only GET /api/products/{id} over the hot set (all cache hits after warm-up): the "
       "instrumentation benchmark",
       {{"cached-read", 1, 1, kOnlyCachedReads, false, nullptr, nullptr}}},
  };
  return kScenarios;
}

// Searches as shoppers type them: a material and a product ("oak chair"), which match.
const char* const kSearchMaterials[] = {"oak", "steel", "wool", "glass", "linen", "walnut"};
const char* const kSearchNouns[] = {"chair", "lamp", "desk", "kettle", "watch", "rug", "bottle"};

// Counters and latencies of one phase; written by every worker.
struct PhaseStats {
  LatencyHistogram latency;
  std::atomic<std::uint64_t> requests{0}, transport{0}, s2xx{0}, s4xx{0}, s429{0}, s5xx{0};
};

// The cumulative shop metrics the scenarios move.
struct ShopMetricsSample {
  bool ok = false;
  double hits = 0, misses = 0, timeouts = 0, pending = 0;
};

ShopMetricsSample ScrapeShop(httplib::Client& client) {
  ShopMetricsSample s;
  httplib::Result res = client.Get("/metrics");
  if (!res || res->status != 200) return s;
  s.ok = true;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const double v = std::strtod(line.c_str() + space + 1, nullptr);
    if (line.rfind("cache_requests_total{", 0) == 0) {
      if (line.find("result=\"hit\"") != std::string::npos) {
        s.hits += v;
      } else {
        s.misses += v;
      }
    } else if (line.rfind("db_client_connection_timeouts_total", 0) == 0) {
      s.timeouts += v;
    } else if (line.rfind("db_client_connection_pending_requests", 0) == 0) {
      s.pending += v;
    }
  }
  return s;
}

class Runner {
 public:
  Runner(const LoadOptions& options, const Scenario& scenario)
      : options_(options), scenario_(scenario), stats_(scenario.phases.size()) {
    for (auto& s : stats_) s = std::make_unique<PhaseStats>();
  }

  LoadReport Run(std::ostream* progress);

 private:
  void Worker(int index);
  void Send(httplib::Client& client, std::mt19937_64& rng, const Phase& phase, PhaseStats& stats,
            Clock::time_point intended);
  std::int64_t PickProduct(std::mt19937_64& rng, bool cold) const;
  std::int64_t PickUser(std::mt19937_64& rng) const;
  double MaxMultiplier() const {
    double m = 1;
    for (const Phase& p : scenario_.phases) m = std::max(m, p.multiplier);
    return m;
  }

  const LoadOptions& options_;
  const Scenario& scenario_;
  std::vector<std::unique_ptr<PhaseStats>> stats_;
  LatencyHistogram all_;
  std::atomic<int> phase_{0};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
};

std::unique_ptr<httplib::Client> NewClient(const LoadOptions& o) {
  auto client = std::make_unique<httplib::Client>(o.host, o.port);
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(2, 0);
  client->set_read_timeout(30, 0);
  client->set_write_timeout(5, 0);
  return client;
}

std::int64_t Runner::PickProduct(std::mt19937_64& rng, bool cold) const {
  const std::int64_t n = std::max<std::int64_t>(1, options_.products);
  if (cold) return std::uniform_int_distribution<std::int64_t>(1, n)(rng);
  // 99% from the hot set, skewed to its head; 1% from the long tail.
  const std::int64_t hot = std::clamp<std::int64_t>(options_.hot_products, 1, n);
  if (std::uniform_int_distribution<int>(0, 99)(rng) == 0) {
    return std::uniform_int_distribution<std::int64_t>(1, n)(rng);
  }
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  return 1 + static_cast<std::int64_t>(u * u * static_cast<double>(hot - 1));
}

std::int64_t Runner::PickUser(std::mt19937_64& rng) const {
  const std::int64_t hot =
      std::clamp<std::int64_t>(options_.hot_users, 1, std::max<std::int64_t>(1, options_.users));
  return std::uniform_int_distribution<std::int64_t>(1, hot)(rng);
}

void Runner::Send(httplib::Client& client, std::mt19937_64& rng, const Phase& phase,
                  PhaseStats& stats, Clock::time_point intended) {
  int total = 0;
  for (int w : phase.mix.weights) total += w;
  int pick = std::uniform_int_distribution<int>(0, total - 1)(rng);
  int op = 0;
  while (pick >= phase.mix.weights[op]) pick -= phase.mix.weights[op++];

  httplib::Result res{nullptr, httplib::Error::Unknown};
  switch (op) {
    case kGetProduct:
      res = client.Get("/api/products/" + std::to_string(PickProduct(rng, phase.cold_products)));
      break;
    case kListProducts:
      res = client.Get("/api/products?limit=20");
      break;
    case kSearch: {
      std::string q = std::string(kSearchMaterials[rng() % std::size(kSearchMaterials)]) + "+" +
                      kSearchNouns[rng() % std::size(kSearchNouns)];
      res = client.Get("/api/products/search?limit=10&q=" + q);
      break;
    }
    case kGetUser:
      res = client.Get("/api/users/" + std::to_string(PickUser(rng)));
      break;
    case kUserOrders:
      res = client.Get("/api/users/" + std::to_string(PickUser(rng)) + "/orders?limit=10");
      break;
    case kCreateOrder: {
      nlohmann::json body = {
          {"user_id", PickUser(rng)},
          {"items", {{{"product_id", PickProduct(rng, false)}, {"quantity", 1}}}}};
      res = client.Post("/api/orders", body.dump(), "application/json");
      break;
    }
    case kGetHotProduct:
      res = client.Get(
          "/api/products/" +
          std::to_string(std::uniform_int_distribution<std::int64_t>(
              1, std::clamp<std::int64_t>(options_.hot_products, 1, options_.products))(rng)));
      break;
    case kSales:
      res = client.Get("/api/products/" + std::to_string(PickProduct(rng, false)) + "/sales");
      break;
    default:
      break;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - intended).count();
  stats.latency.Record(seconds);
  all_.Record(seconds);
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  if (!res) {
    stats.transport.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const int status = res->status;
  if (status < 400) {
    stats.s2xx.fetch_add(1, std::memory_order_relaxed);
  } else if (status == 429) {
    stats.s429.fetch_add(1, std::memory_order_relaxed);
  } else if (status < 500) {
    stats.s4xx.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats.s5xx.fetch_add(1, std::memory_order_relaxed);
  }
}

void Runner::Worker(int index) {
  std::unique_ptr<httplib::Client> client = NewClient(options_);
  std::mt19937_64 rng(options_.seed * 1'000'003 + static_cast<std::uint64_t>(index));
  const double max_mult = MaxMultiplier();
  int current = -1;
  Clock::time_point next{};
  Clock::duration interval{};
  bool active = true;
  while (!stop_.load(std::memory_order_relaxed)) {
    const int p = phase_.load(std::memory_order_acquire);
    const Phase& phase = scenario_.phases[static_cast<std::size_t>(p)];
    if (p != current) {
      current = p;
      next = Clock::now();
      if (options_.rate > 0) {
        const double per_worker = options_.rate * phase.multiplier / options_.concurrency;
        interval = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(1.0 / per_worker));
        active = true;
      } else {
        // Closed loop: the phase's multiplier sets how many connections are busy.
        const int busy = std::max(
            1, static_cast<int>(std::lround(options_.concurrency * phase.multiplier / max_mult)));
        active = index < busy;
      }
    }
    if (!active) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    Clock::time_point intended = Clock::now();
    if (options_.rate > 0) {
      if (next > intended) {
        std::this_thread::sleep_until(next);
        if (stop_.load(std::memory_order_relaxed)) break;
      }
      intended = next;
      next += interval;
    }
    if (options_.max_requests > 0 && sent_.fetch_add(1, std::memory_order_relaxed) >=
                                         static_cast<std::uint64_t>(options_.max_requests)) {
      stop_ = true;
      break;
    }
    Send(*client, rng, phase, *stats_[static_cast<std::size_t>(p)], intended);
  }
}

PhaseReport Summarize(const std::string& name, const PhaseStats& s, double seconds) {
  PhaseReport r;
  r.name = name;
  r.seconds = seconds;
  r.requests = s.requests.load();
  r.transport_errors = s.transport.load();
  r.status_2xx = s.s2xx.load();
  r.status_4xx = s.s4xx.load();
  r.status_429 = s.s429.load();
  r.status_5xx = s.s5xx.load();
  r.rps = seconds > 0 ? static_cast<double>(r.requests) / seconds : 0;
  r.p50 = s.latency.Quantile(0.50);
  r.p95 = s.latency.Quantile(0.95);
  r.p99 = s.latency.Quantile(0.99);
  r.max = s.latency.Max();
  return r;
}

void Admin(const LoadOptions& o, const char* path, const char* body, std::ostream* progress) {
  std::unique_ptr<httplib::Client> client = NewClient(o);
  httplib::Result res = client->Post(path, body, "application/json");
  if (progress != nullptr) {
    *progress << "admin POST " << path << " -> "
              << (res ? std::to_string(res->status) : std::string("no response"))
              << (res && res->status == 404
                      ? " (start shop with --enable-admin / --enable-fault-injection)"
                      : "")
              << "\n";
  }
}

LoadReport Runner::Run(std::ostream* progress) {
  LoadReport report;
  report.scenario = scenario_.name;
  std::unique_ptr<httplib::Client> metrics_client = NewClient(options_);
  metrics_client->set_read_timeout(2, 0);

  std::vector<std::thread> workers;
  const auto start = Clock::now();
  std::vector<Clock::time_point> phase_end;
  double acc = 0;
  for (const Phase& p : scenario_.phases) {
    acc += p.share;
    phase_end.push_back(start + std::chrono::duration_cast<Clock::duration>(options_.duration *
                                                                            std::min(acc, 1.0)));
  }
  phase_end.back() = start + options_.duration;

  if (scenario_.phases[0].admin_path != nullptr) {
    Admin(options_, scenario_.phases[0].admin_path, scenario_.phases[0].admin_body, progress);
  }
  for (int i = 0; i < options_.concurrency; ++i) workers.emplace_back([this, i] { Worker(i); });

  LatencyHistogram previous, window;
  std::uint64_t previous_count = 0;
  ShopMetricsSample phase_start_sample =
      options_.scrape_metrics ? ScrapeShop(*metrics_client) : ShopMetricsSample{};
  double pending_max = phase_start_sample.pending;
  auto phase_started = start;
  std::size_t p = 0;
  auto next_tick = start + std::chrono::seconds(1);
  while (true) {
    const auto wake = std::min(next_tick, phase_end[p]);
    while (Clock::now() < wake && !stop_.load()) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(wake - Clock::now(), std::chrono::milliseconds(50)));
    }
    const auto now = Clock::now();
    const bool phase_over = now >= phase_end[p] || stop_.load();
    if (now >= next_tick || phase_over) {
      ShopMetricsSample sample =
          options_.scrape_metrics ? ScrapeShop(*metrics_client) : ShopMetricsSample{};
      if (sample.ok) pending_max = std::max(pending_max, sample.pending);
      if (now >= next_tick) {
        next_tick += std::chrono::seconds(1);
        window.CopyFrom(all_);
        window.Subtract(previous);
        previous.CopyFrom(all_);
        const std::uint64_t count = all_.Count();
        const PhaseStats& s = *stats_[p];
        if (progress != nullptr) {
          char line[256];
          std::snprintf(
              line, sizeof line,
              "[%5.0fs] %-15s rps=%7.0f p95=%8.2fms 5xx=%llu 429=%llu errors=%llu%s\n",
              std::chrono::duration<double>(now - start).count(), scenario_.phases[p].name,
              static_cast<double>(count - previous_count), window.Quantile(0.95) * 1000,
              static_cast<unsigned long long>(s.s5xx.load()),
              static_cast<unsigned long long>(s.s429.load()),
              static_cast<unsigned long long>(s.transport.load()),
              sample.ok
                  ? (" pool_pending=" + std::to_string(static_cast<int>(sample.pending))).c_str()
                  : "");
          *progress << line << std::flush;
        }
        previous_count = count;
      }
      if (phase_over) {
        PhaseReport r = Summarize(scenario_.phases[p].name, *stats_[p],
                                  std::chrono::duration<double>(now - phase_started).count());
        if (sample.ok && phase_start_sample.ok) {
          const double hits = sample.hits - phase_start_sample.hits;
          const double lookups = hits + sample.misses - phase_start_sample.misses;
          r.cache_hit_ratio = lookups > 0 ? hits / lookups : -1;
          r.pool_timeouts = sample.timeouts - phase_start_sample.timeouts;
          r.pool_pending_max = pending_max;
        }
        report.phases.push_back(r);
        phase_start_sample = sample;
        pending_max = sample.ok ? sample.pending : -1;
        phase_started = now;
        if (p + 1 >= scenario_.phases.size() || stop_.load()) break;
        ++p;
        // Switch first, so requests sent after the admin call count in the new phase.
        phase_.store(static_cast<int>(p), std::memory_order_release);
        if (scenario_.phases[p].admin_path != nullptr) {
          Admin(options_, scenario_.phases[p].admin_path, scenario_.phases[p].admin_body, progress);
        }
      }
    }
  }
  stop_ = true;
  for (auto& t : workers) t.join();
  // Requests in flight at a phase end were counted in that phase's stats; refresh the counts.
  for (std::size_t i = 0; i < report.phases.size(); ++i) {
    PhaseReport fresh = Summarize(report.phases[i].name, *stats_[i], report.phases[i].seconds);
    fresh.cache_hit_ratio = report.phases[i].cache_hit_ratio;
    fresh.pool_timeouts = report.phases[i].pool_timeouts;
    fresh.pool_pending_max = report.phases[i].pool_pending_max;
    report.phases[i] = fresh;
  }
  PhaseStats total;
  for (const auto& s : stats_) {
    total.latency.Merge(s->latency);
    total.requests += s->requests.load();
    total.transport += s->transport.load();
    total.s2xx += s->s2xx.load();
    total.s4xx += s->s4xx.load();
    total.s429 += s->s429.load();
    total.s5xx += s->s5xx.load();
  }
  report.total =
      Summarize("total", total, std::chrono::duration<double>(Clock::now() - start).count());
  return report;
}

nlohmann::json PhaseJson(const PhaseReport& r) {
  nlohmann::json j = {
      {"name", r.name},
      {"seconds", r.seconds},
      {"requests", r.requests},
      {"rps", r.rps},
      {"latency_seconds", {{"p50", r.p50}, {"p95", r.p95}, {"p99", r.p99}, {"max", r.max}}},
      {"status",
       {{"2xx", r.status_2xx},
        {"4xx", r.status_4xx},
        {"429", r.status_429},
        {"5xx", r.status_5xx}}},
      {"transport_errors", r.transport_errors},
      {"error_ratio", r.error_ratio()}};
  if (r.cache_hit_ratio >= 0) j["cache_hit_ratio"] = r.cache_hit_ratio;
  if (r.pool_timeouts >= 0) j["pool_timeouts"] = r.pool_timeouts;
  if (r.pool_pending_max >= 0) j["pool_pending_max"] = r.pool_pending_max;
  return j;
}

}  // namespace

double PhaseReport::error_ratio() const {
  return requests > 0
             ? static_cast<double>(status_5xx + transport_errors) / static_cast<double>(requests)
             : 0;
}

const std::vector<std::string>& ScenarioNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const Scenario& s : Scenarios()) names.emplace_back(s.name);
    return names;
  }();
  return kNames;
}

std::string ScenarioHelp() {
  std::string out;
  for (const Scenario& s : Scenarios()) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-16s %s\n", s.name, s.help);
    out += line;
  }
  return out;
}

Result<LoadReport> RunLoad(const LoadOptions& options, std::ostream* progress) {
  const Scenario* scenario = nullptr;
  for (const Scenario& s : Scenarios()) {
    if (options.scenario == s.name) scenario = &s;
  }
  if (scenario == nullptr) return Status::InvalidArgument("unknown scenario " + options.scenario);
  if (options.concurrency < 1 || options.concurrency > 4096) {
    return Status::InvalidArgument("concurrency must be 1..4096");
  }
  if (options.duration.count() <= 0) return Status::InvalidArgument("duration must be > 0");
  if (options.rate < 0) return Status::InvalidArgument("rate must be >= 0");
  Runner runner(options, *scenario);
  return runner.Run(progress);
}

std::string ReportJson(const LoadReport& report) {
  nlohmann::json j = {{"scenario", report.scenario}, {"total", PhaseJson(report.total)}};
  j["phases"] = nlohmann::json::array();
  for (const PhaseReport& p : report.phases) j["phases"].push_back(PhaseJson(p));
  return j.dump(2);
}

std::string ReportText(const LoadReport& report) {
  std::string out = "scenario " + report.scenario + "\n";
  char line[320];
  std::snprintf(line, sizeof line, "%-15s %8s %8s %9s %9s %9s %7s %6s %6s %8s %8s %8s\n", "phase",
                "requests", "rps", "p50_ms", "p95_ms", "p99_ms", "5xx", "429", "errors", "hit_rate",
                "pool_to", "pending");
  out += line;
  auto row = [&](const PhaseReport& p) {
    auto opt = [](double v, const char* fmt) {
      char b[32];
      if (v < 0) return std::string("-");
      std::snprintf(b, sizeof b, fmt, v);
      return std::string(b);
    };
    std::snprintf(line, sizeof line,
                  "%-15s %8llu %8.0f %9.2f %9.2f %9.2f %7llu %6llu %6llu %8s %8s %8s\n",
                  p.name.c_str(), static_cast<unsigned long long>(p.requests), p.rps, p.p50 * 1000,
                  p.p95 * 1000, p.p99 * 1000, static_cast<unsigned long long>(p.status_5xx),
                  static_cast<unsigned long long>(p.status_429),
                  static_cast<unsigned long long>(p.transport_errors),
                  opt(p.cache_hit_ratio * (p.cache_hit_ratio < 0 ? 1 : 100), "%.1f%%").c_str(),
                  opt(p.pool_timeouts, "%.0f").c_str(), opt(p.pool_pending_max, "%.0f").c_str());
    out += line;
  };
  for (const PhaseReport& p : report.phases) row(p);
  row(report.total);
  return out;
}

}  // namespace vigil::shop
