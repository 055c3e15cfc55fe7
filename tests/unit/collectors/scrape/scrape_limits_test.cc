// Scrape targets that attack: a gzip bomb, an endless body, a line of 50,000 labels, 300,000
// series, oversized label names and values, all served from loopback by an in-process
// server. Each fails its own scrape with the limit's name while memory stays near the
// limits and a good target beside them is scraped as usual.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iostream>
#include <thread>

#include "agent/base/log.h"
#include "agent/core/collection_store.h"
#include "agent/core/scheduler.h"
#include "collectors/scrape/scrape_collector.h"
#include "tests/support/hostile_bodies.h"
#include "tests/support/sanitizers.h"
#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
namespace {

using namespace std::chrono_literals;
using testing::FindValue;
using testing::GzipBomb;
using testing::kBombBytes;
using testing::ManyLabels;
using testing::ManySeries;

// Serves the attacks and a good body on a loopback port. Bodies are made once.
struct HostileTarget {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  HostileTarget() {
    static const std::string wide = ManyLabels(50'000);
    static const std::string series = ManySeries(300'000);
    static const std::string long_value = "v{a=\"" + std::string(5000, 'x') + "\"} 1\n";
    static const std::string long_name = "n{" + std::string(300, 'a') + "=\"x\"} 1\n";
    // Bodies that are not text/* are sent as they are (cpp-httplib compresses only text).
    const char* raw = "application/octet-stream";
    server.Get("/bomb", [raw](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Encoding", "gzip");
      res.set_content(GzipBomb(), raw);
    });
    // 1 GiB of valid lines, chunked (no Content-Length): only the running count can stop it.
    server.Get("/endless", [raw](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider(raw, [](std::size_t offset, httplib::DataSink& sink) {
        static const std::string chunk = [] {
          std::string c;
          while (c.size() < (64 << 10)) c += "endless_total 1\n";
          return c;
        }();
        if (offset >= kBombBytes) {
          sink.done();
          return true;
        }
        return sink.write(chunk.data(), chunk.size());
      });
    });
    server.Get("/declared", [raw](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(17 << 20, '\n'), raw);  // 17 MiB, with Content-Length
    });
    server.Get("/wide", [=](const httplib::Request&, httplib::Response& res) {
      res.set_content(wide, raw);
    });
    server.Get("/series", [=](const httplib::Request&, httplib::Response& res) {
      res.set_content(series, raw);
    });
    server.Get("/long_value", [=](const httplib::Request&, httplib::Response& res) {
      res.set_content(long_value, raw);
    });
    server.Get("/long_name", [=](const httplib::Request&, httplib::Response& res) {
      res.set_content(long_name, raw);
    });
    server.Get("/good", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("# TYPE good_total counter\ngood_total{path=\"/\"} 7\n", "text/plain");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    for (int i = 0; i < 200 && !server.is_running(); ++i) std::this_thread::sleep_for(5ms);
  }
  ~HostileTarget() {
    server.stop();
    thread.join();
  }
};

ScrapeConfig ConfigFor(int port, const std::string& path) {
  ScrapeConfig c;
  c.name = path.substr(1);
  c.job = c.name;
  c.scheme_host_port = "http://127.0.0.1:" + std::to_string(port);
  c.path = path;
  c.url = c.scheme_host_port + path;
  c.instance = "127.0.0.1:" + std::to_string(port);
  return c;
}

// A field of /proc/self/status in bytes ("VmRSS:", "VmHWM:"); 0 when unreadable.
double StatusBytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  for (int i = 0; i < 200 && std::getline(in, line); ++i) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(field.size())) * 1024;
  }
  return 0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false when not allowed.
bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

struct Attack {
  std::string path;
  std::string reason;  // in the error
};

const std::vector<Attack>& Attacks() {
  static const std::vector<Attack> attacks = {
      {"/bomb", "body_size_limit 16777216 exceeded"},
      {"/endless", "body_size_limit 16777216 exceeded"},
      {"/declared", "body_size_limit 16777216 exceeded"},
      {"/wide", "label_limit 64 exceeded"},
      {"/series", "300000 samples exceed sample_limit 50000"},
      {"/long_value", "label_value_length_limit 4096 exceeded: label \"a\""},
      {"/long_name", "label_name_length_limit 256 exceeded"},
  };
  return attacks;
}

TEST_CASE("scrape limits: each attack fails its scrape whole, memory stays near the limits",
          "[scrape][limits]") {
  CHECK(GzipBomb().size() < (2 << 20));  // made before the memory baseline
  HostileTarget t;
  ScrapeConfig defaults;
  std::string log;  // the warnings (asserted below)
  SetLogSink(&log);
  for (const Attack& attack : Attacks()) {
    DYNAMIC_SECTION(attack.path) {
      ScrapeCollector c(ConfigFor(t.port, attack.path));
      bool peak_known = ResetPeakRss();
      double before = StatusBytes("VmRSS:");
      MetricSink sink;
      TimestampMs now = SystemClock::Get().Now();
      auto t0 = std::chrono::steady_clock::now();
      Status st = c.Collect(CollectContext{now, now + 20'000}, sink);
      auto took = std::chrono::steady_clock::now() - t0;
      double peak = StatusBytes("VmHWM:");
      Snapshot s = sink.Take();
      INFO(st.ToString());
      CHECK(st.code() == Status::Code::kResourceExhausted);
      CHECK(st.message().find(attack.reason) != std::string::npos);
      // Nothing scraped is kept: only the scrape_* series.
      for (const MetricFamily& f : s) CHECK(f.name.rfind("scrape_", 0) == 0);
      CHECK(c.peak_body_capacity() <= defaults.body_size_limit);
      CHECK(took < 10s);
      if (attack.reason.find("body_size_limit") != std::string::npos) {
        CHECK(FindValue(s, "scrape_body_size_bytes") == -1);
      }
      // The body (at most 16 MiB) and what parsing it holds; 1 GiB if the bomb were inflated.
      if (peak_known && before > 0) {
        CHECK(peak - before < testing::kMemoryScale * 96.0 * (1 << 20));
      }
      std::cout << "scrape " << attack.path << ": peak RSS +" << (peak - before) / (1 << 20)
                << " MiB, body buffer " << c.peak_body_capacity() / (1 << 20) << " MiB, "
                << std::chrono::duration<double, std::milli>(took).count() << " ms\n";
    }
  }
  SetLogSink(nullptr);
}

TEST_CASE("scrape limits: hostile targets fail alone, a good target beside them works",
          "[scrape][limits]") {
  HostileTarget t;
  std::vector<CollectorSpec> specs;
  for (const Attack& attack : Attacks()) {
    ScrapeConfig config = ConfigFor(t.port, attack.path);
    specs.push_back(CollectorSpec{"scrape", config.name, 60s, 20s,
                                  [config] { return std::make_unique<ScrapeCollector>(config); }});
  }
  ScrapeConfig good = ConfigFor(t.port, "/good");
  specs.push_back(CollectorSpec{"scrape", "good", 60s, 20s,
                                [good] { return std::make_unique<ScrapeCollector>(good); }});
  CollectionStore store;
  Scheduler scheduler(specs, &store, &SystemClock::Get(), 4);
  std::string log;
  SetLogSink(&log);
  scheduler.Tick();
  REQUIRE(scheduler.WaitIdle(60s));
  SetLogSink(nullptr);
  std::map<std::string, CollectorState> states;
  for (const CollectorState& s : store.States()) states[s.target] = s;
  REQUIRE(states.size() == Attacks().size() + 1);
  for (const Attack& attack : Attacks()) {
    const CollectorState& s = states[attack.path.substr(1)];
    INFO(attack.path << ": " << s.last_error);
    CHECK(s.has_run);
    CHECK_FALSE(s.up);
    CHECK(s.last_error.find(attack.reason) != std::string::npos);
  }
  const CollectorState& ok = states["good"];
  INFO(ok.last_error);
  CHECK(ok.up);
  REQUIRE(ok.snapshot);
  CHECK(FindValue(*ok.snapshot, "good_total", {{"job", "good"}, {"path", "/"}}) == 7);
  // One warning per failing target, naming it and the limit.
  std::size_t warnings = 0;
  for (std::size_t at = log.find("scrape over a limit"); at != std::string::npos;
       at = log.find("scrape over a limit", at + 1)) {
    ++warnings;
  }
  CHECK(warnings == Attacks().size());
  CHECK(log.find("target=bomb") != std::string::npos);
}

TEST_CASE("scrape limits: one warning while a target stays over, again after it recovers",
          "[scrape][limits]") {
  std::string body = ManySeries(20);  // changed between scrapes, never during one
  httplib::Server server;
  server.Get("/m", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  for (int i = 0; i < 200 && !server.is_running(); ++i) std::this_thread::sleep_for(5ms);
  ScrapeConfig config = ConfigFor(port, "/m");
  config.sample_limit = 10;
  auto c = std::make_unique<ScrapeCollector>(config);
  std::string log;
  SetLogSink(&log);
  auto scrape = [&] {
    MetricSink sink;
    TimestampMs now = SystemClock::Get().Now();
    return c->Collect(CollectContext{now, now + 5000}, sink);
  };
  auto warnings = [&] {
    std::size_t n = 0;
    for (std::size_t at = log.find("scrape over a limit"); at != std::string::npos;
         at = log.find("scrape over a limit", at + 1)) {
      ++n;
    }
    return n;
  };
  Status first = scrape();
  Status second = scrape();
  std::size_t while_over = warnings();
  body = ManySeries(5);
  Status recovered = scrape();
  body = ManySeries(20);
  Status again = scrape();
  std::size_t after = warnings();
  SetLogSink(nullptr);
  c.reset();  // closes its keep-alive connection, which the server would wait for
  server.stop();
  thread.join();
  CHECK(first.code() == Status::Code::kResourceExhausted);
  CHECK(second.code() == Status::Code::kResourceExhausted);
  CHECK(while_over == 1);
  CHECK(recovered.ok());
  CHECK(again.code() == Status::Code::kResourceExhausted);
  CHECK(after == 2);
  CHECK(log.find("20 samples exceed sample_limit 10") != std::string::npos);
}

}  // namespace
}  // namespace vigil::collectors
