// Hostile clients and hostile targets at once (issue 16, "Tests that attack"). The real vigil
// binary, on loopback with its default limits, scrapes targets this test serves: a gzip bomb
// (1 GiB of zeros, ~1 MiB on the wire), a line of 50,000 labels, 300,000 series, invalid UTF-8
// in label values and HELP, HELP text with escaped newlines and backslashes (which must not
// become lines of vigil's own /metrics), 5,000 series against a per-source window cap of
// 1,000, and a good target. Meanwhile raw sockets attack its HTTP server: 200 slowloris
// connections (kept at 200: each one vigil closes is opened again), oversized heads, too many
// headers, oversized bodies, 16 clients looping on expensive range queries for 10 s, and
// invalid UTF-8 in query parameters. A measuring client GETs /metrics, /-/healthy and
// /-/ready 200 times each throughout. Asserted: no hang, only the expected status codes,
// /metrics p99 < 100 ms, vigil alive and healthy, RSS and threads bounded, /metrics accepted
// by promtool with nothing injected, and each hostile target down with its limit as the
// reason while the good one is up. The figures are printed for docs/reliability.md.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/reliability/harness.h"
#include "tests/support/hostile_bodies.h"
#include "tests/support/sanitizers.h"

namespace vigil::reliability {
namespace {

using Ms = std::chrono::milliseconds;

// A TCP connection to 127.0.0.1:port (-1 when refused).
int Dial(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

struct RawResponse {
  int status = 0;  // 0: closed or timed out without a status line
  std::string body;
  double seconds = 0;
};

// Sends `request` on a fresh connection (in 64 KiB pieces, stopping early once vigil has
// answered, as it may before reading an oversized body), then reads until vigil closes or
// `timeout` passes.
RawResponse RawExchange(int port, const std::string& request, Ms timeout = 5s) {
  RawResponse r;
  auto t0 = Clock::now();
  int fd = Dial(port);
  if (fd < 0) return r;
  for (std::size_t at = 0; at < request.size() && !Readable(fd, 0);) {
    ssize_t n = ::send(fd, request.data() + at,
                       std::min<std::size_t>(64 << 10, request.size() - at), MSG_NOSIGNAL);
    if (n <= 0) break;
    at += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[16384];
  while (Clock::now() - t0 < timeout) {
    auto left = std::chrono::duration_cast<Ms>(timeout - (Clock::now() - t0));
    if (!Readable(fd, static_cast<int>(std::max<Ms::rep>(1, left.count())))) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  r.seconds = SecondsSince(t0);
  if (in.starts_with("HTTP/1.1 ") && in.size() >= 12) r.status = std::atoi(in.c_str() + 9);
  if (std::size_t end = in.find("\r\n\r\n"); end != std::string::npos) r.body = in.substr(end + 4);
  return r;
}

// Status codes counted by what sent them.
class Codes {
 public:
  void Add(const std::string& kind, int code, double seconds = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[kind][code];
    slowest_[kind] = std::max(slowest_[kind], seconds);
  }
  std::map<int, int> Of(const std::string& kind) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[kind];
  }
  std::string Summary() {
    std::lock_guard<std::mutex> lock(mu_);
    std::ostringstream out;
    for (const auto& [kind, codes] : counts_) {
      out << "  " << kind << ":";
      for (auto [code, n] : codes) out << " " << (code ? std::to_string(code) : "none") << "x" << n;
      out << " (slowest " << slowest_[kind] << " s)\n";
    }
    return out.str();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<int, int>> counts_;
  std::map<std::string, double> slowest_;
};

// The codes in `got` that are not in `allowed`, with their counts ("" when none).
std::string Unexpected(const std::map<int, int>& got, std::initializer_list<int> allowed) {
  std::string out;
  for (auto [code, n] : got) {
    if (std::find(allowed.begin(), allowed.end(), code) == allowed.end()) {
      out += std::to_string(code) + "x" + std::to_string(n) + " ";
    }
  }
  return out;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

// The hostile targets and the good one, on a loopback port.
struct Targets {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  Targets() {
    static const std::string wide = testing::ManyLabels(50'000);
    static const std::string series = testing::ManySeries(300'000);
    static const std::string many =
        "# HELP many_series Over the per-source cap.\n" + testing::ManySeries(5'000, "many_series");
    // Bodies that are not text/* are sent as they are (cpp-httplib compresses only text).
    const char* raw = "application/octet-stream";
    auto serve = [&](const std::string& path, const std::string& body,
                     const std::string& encoding = "") {
      server.Get(path, [&body, encoding, raw](const httplib::Request&, httplib::Response& res) {
        if (!encoding.empty()) res.set_header("Content-Encoding", encoding);
        res.set_content(body, raw);
      });
    };
    static const std::string utf8 =
        "# HELP hostile_utf8 bad \xff\xfe bytes \xc3\x28 and a surrogate \xed\xa0\x80\n"
        "# TYPE hostile_utf8 gauge\n"
        "hostile_utf8{v=\"\xff\xfe\xc0\xaf\"} 1\nhostile_utf8{v=\"ok\xed\xa0\x80\"} 2\n";
    // Escaped per the text format: unescaped naively on the way out, the \n would start a
    // line `injected_series{via="help"} 1` in vigil's /metrics.
    static const std::string help =
        "# HELP hostile_help_total first\\ninjected_series{via=\"help\"} 1\\nback\\\\slash "
        "\\\\n end\\\\\n# TYPE hostile_help_total counter\nhostile_help_total 1\n";
    static const std::string good =
        "# HELP good_requests_total Requests.\n# TYPE good_requests_total counter\n"
        "good_requests_total{path=\"/\"} 7\n";
    serve("/bomb", testing::GzipBomb(), "gzip");
    serve("/wide", wide);
    serve("/series", series);
    serve("/utf8", utf8);
    serve("/help", help);
    serve("/many", many);
    serve("/good", good);
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    for (int i = 0; i < 200 && !server.is_running(); ++i) std::this_thread::sleep_for(5ms);
  }
  ~Targets() {
    server.stop();
    thread.join();
  }
};

const char* const kHostile[] = {"bomb", "wide", "series"};
const char* const kAllTargets[] = {"bomb", "wide", "series", "utf8", "help", "many", "good"};

// /api/v1/collectors' scrape entries by target.
std::map<std::string, nlohmann::json> ScrapeStates(const Vigil& vigil) {
  std::map<std::string, nlohmann::json> out;
  auto body = vigil.Get("/api/v1/collectors");
  if (!body) return out;
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j["data"].is_array()) return out;
  for (const auto& c : j["data"]) {
    if (c["collector"] == "scrape") out[c["target"].get<std::string>()] = c;
  }
  return out;
}

// 200 slow clients, each sending one byte of its head every 500 ms; one vigil closes (by its
// header timeout) is counted and replaced, so 200 stay open throughout.
struct Slowloris {
  static constexpr int kConnections = 200;
  int port;
  std::atomic<bool>& stop;
  int opened = 0, closed_by_vigil = 0, answered_408 = 0;
  double shortest_life = 1e9, longest_life = 0;  // of the connections vigil closed
  std::thread thread;
  Slowloris(int p, std::atomic<bool>& s) : port(p), stop(s) {
    thread = std::thread([this] { Run(); });
  }
  void Run() {
    struct Conn {
      int fd;
      Clock::time_point opened;
    };
    std::vector<Conn> conns;
    auto open = [&] {
      int fd = Dial(port);
      if (fd < 0) return;
      ++opened;
      std::string head = "GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
      ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
      conns.push_back({fd, Clock::now()});
    };
    for (int i = 0; i < kConnections; ++i) open();
    while (!stop) {
      for (std::size_t i = 0; i < conns.size();) {
        Conn& c = conns[i];
        bool gone = false;
        if (Readable(c.fd, 0)) {
          char buf[512];
          ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
          if (n > 12 && std::string_view(buf, 12) == "HTTP/1.1 408") ++answered_408;
          gone = true;
        } else if (::send(c.fd, "a", 1, MSG_NOSIGNAL) != 1) {
          gone = true;
        }
        if (gone) {
          double life = SecondsSince(c.opened);
          shortest_life = std::min(shortest_life, life);
          longest_life = std::max(longest_life, life);
          ++closed_by_vigil;
          ::close(c.fd);
          conns.erase(conns.begin() + static_cast<long>(i));
        } else {
          ++i;
        }
      }
      while (conns.size() < kConnections && !stop) {
        std::size_t before = conns.size();
        open();
        if (conns.size() == before) break;
      }
      for (int w = 0; w < 10 && !stop; ++w) std::this_thread::sleep_for(50ms);
    }
    for (const Conn& c : conns) ::close(c.fd);
  }
  void Join() {
    if (thread.joinable()) thread.join();
  }
  ~Slowloris() { Join(); }
};

TEST_CASE("Hostile clients and hostile scrape targets leave vigil alive, bounded and answering",
          "[integration][reliability]") {
  TempDir dir("hostile");
  Targets targets;
  std::string url = "http://127.0.0.1:" + std::to_string(targets.port) + "/";
  std::string config =
      "global: {collect_interval: 2s, collect_timeout: 1500ms, max_series_per_source: 1000}\n"
      "scrape:\n";
  for (const char* t : kAllTargets) {
    config += "  - {name: " + std::string(t) + ", url: \"" + url + t + "\"}\n";
  }
  WriteFile(dir.path / "vigil.yml", config);
  Vigil vigil(dir.path / "vigil.yml", dir.path / "vigil.log");
  const int port = vigil.port();

  // Peak RSS and threads, sampled every 100 ms from the start.
  std::atomic<bool> done{false};
  double peak_rss_mib = 0;
  int peak_threads = 0;
  std::thread monitor([&] {
    while (!done) {
      peak_rss_mib = std::max(peak_rss_mib, ProcStatusField(vigil.pid(), "VmRSS:") / 1024);
      peak_threads =
          std::max(peak_threads, static_cast<int>(ProcStatusField(vigil.pid(), "Threads:")));
      std::this_thread::sleep_for(100ms);
    }
  });
  struct JoinMonitor {
    std::atomic<bool>& done;
    std::thread& t;
    ~JoinMonitor() {
      done = true;
      if (t.joinable()) t.join();
    }
  } join_monitor{done, monitor};

  // Every target scraped once: the hostile ones failed, the good one is up.
  bool scraped = WaitFor(
      [&] {
        auto states = ScrapeStates(vigil);
        for (const char* t : kAllTargets) {
          if (!states.count(t) || !states[t]["has_run"].get<bool>()) return false;
        }
        return true;
      },
      20s, 200ms);
  REQUIRE(scraped);
  double rss_before_attack = ProcStatusField(vigil.pid(), "VmRSS:") / 1024;
  int threads_before_attack = static_cast<int>(ProcStatusField(vigil.pid(), "Threads:"));
  auto fixed_threads = [pid = vigil.pid()] {
    return CountThreads(pid) - CountThreadsNamed(pid, "vigil-collect");
  };
  int fixed_before_attack = fixed_threads();
  int instances = static_cast<int>(
      SampleValues(vigil.Get("/metrics").value_or(""), "vigil_collector_up").size());

  Codes codes;
  std::atomic<bool> stop{false};
  Slowloris slowloris(port, stop);

  // 16 clients looping on range queries over every series for 10 s.
  constexpr int kFlooders = 16;
  std::atomic<int> flood_requests{0}, flood_no_answer{0};
  std::mutex flood_mu;
  double flood_slowest = 0;
  std::vector<std::thread> flood;
  for (int i = 0; i < kFlooders; ++i) {
    flood.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_connection_timeout(5s);
      // Past it a query hangs: --query.timeout is 2m, none should.
      c.set_read_timeout(std::chrono::seconds(static_cast<int>(30 * testing::kTimeScale)));
      const char* exprs[] = {"%7B__name__%3D~%22.%2B%22%7D",
                             "sum%20by%20(__name__)%20(rate(%7B__name__%3D~%22.%2B%22%7D%5B5m%5D))",
                             "count_values(%22v%22%2C%7B__name__%3D~%22.%2B%22%7D)"};
      auto t0 = Clock::now();
      for (int n = 0; SecondsSince(t0) < 10; ++n) {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        // 3600 s at 0.35 s: 10,286 points, under the 11,000 a series may have (under a
        // sanitizer a step kTimeScale times longer: the same queueing, affordable work).
        std::string path = std::string("/api/v1/query_range?query=") + exprs[(n + i) % 3] +
                           "&start=" + std::to_string(now - 3600) + "&end=" + std::to_string(now) +
                           "&step=" + std::to_string(0.35 * testing::kTimeScale);
        auto q0 = Clock::now();
        auto res = c.Get(path.c_str());
        double took = SecondsSince(q0);
        ++flood_requests;
        {
          std::lock_guard<std::mutex> lock(flood_mu);
          flood_slowest = std::max(flood_slowest, took);
        }
        if (!res) {
          ++flood_no_answer;
          codes.Add("range query flood", 0);
          continue;
        }
        codes.Add("range query flood", res->status, took);
        if (res->status == 503) std::this_thread::sleep_for(100ms);  // Retry-After, roughly
      }
    });
  }

  // Oversized heads and bodies, and invalid UTF-8 in parameters, until the measuring ends.
  std::vector<std::string> utf8_not_json;  // Catch's macros are for the main thread only
  std::thread oversize([&] {
    const std::string big_header =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(20 << 10, 'a') +
        "\r\n\r\n";
    std::string many_headers = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 0; i < 100; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
    many_headers += "\r\n";
    const std::string body(600 << 10, 'a');
    const std::string big_body =
        "POST /api/v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\nquery=" + body.substr(6);
    const std::vector<std::string> utf8_paths = {
        "/api/v1/query?query=%FF%FE",
        "/api/v1/query?query=up%7Bjob%3D%22%C3%28%22%7D",
        "/api/v1/query?query=\xff\xfe\xc0\xaf",
        "/api/v1/query?query=up&time=\xed\xa0\x80",
        "/api/v1/query_range?query=%ED%A0%80&start=0&end=1&step=1",
        "/api/v1/query_range?query=up&start=%FF&end=1&step=1",
        "/api/v1/query?query=%22%FF%22",
        "/api/v1/query?query=label_replace(up%2C%22a%22%2C%22%FF%22%2C%22%22%2C%22%22)",
        "/api/v1/query?query=%7B__name__%3D~%22%FF%22%7D",
        "/api/v1/collectors?\xff=\xfe",
    };
    for (int round = 0; round < 400 && !stop; ++round) {
      for (const auto& [kind, request] :
           {std::pair<const char*, const std::string&>{"head > 16 KiB", big_header},
            {"100 header lines", many_headers},
            {"body > 512 KiB", big_body}}) {
        RawResponse a = RawExchange(port, request);
        codes.Add(kind, a.status, a.seconds);
      }
      const std::string& p = utf8_paths[static_cast<std::size_t>(round) % utf8_paths.size()];
      RawResponse r = RawExchange(
          port, "GET " + p + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
          std::chrono::milliseconds(static_cast<int>(5000 * testing::kTimeScale)));
      codes.Add("invalid UTF-8 in parameters", r.status, r.seconds);
      if (r.status != 0 && nlohmann::json::parse(r.body, nullptr, false).is_discarded()) {
        utf8_not_json.push_back(p + " -> " + std::to_string(r.status) + " " +
                                r.body.substr(0, 300));
      }
      std::this_thread::sleep_for(50ms);
    }
  });

  // The measuring client: fresh connections, as a scraper's, every 70 ms for ~14 s.
  std::this_thread::sleep_for(500ms);  // the slowloris connections and the flood are in
  constexpr int kRounds = 200;
  std::map<std::string, std::vector<double>> latency;
  std::map<std::string, int> failed;
  auto m0 = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    for (const char* path : {"/metrics", "/-/healthy", "/-/ready"}) {
      double took = 0;
      if (!vigil.Get(path, 5s, &took)) ++failed[path];
      latency[path].push_back(took * 1000);
    }
    std::this_thread::sleep_until(m0 + (i + 1) * 70ms);
  }
  const int fds_under_attack = CountFds(vigil.pid());
  stop = true;
  for (std::thread& t : flood) t.join();
  oversize.join();
  slowloris.Join();
  done = true;
  monitor.join();

  // The figures, for docs/reliability.md.
  std::printf("hostile clients: measuring client, %d rounds over %.1f s (ms):\n", kRounds,
              SecondsSince(m0));
  for (const auto& [path, ms] : latency) {
    std::printf("  %-10s p50 %.1f  p99 %.1f  max %.1f  failed %d\n", path.c_str(),
                Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0), failed[path]);
  }
  std::printf(
      "  slowloris: %d connections opened, %d closed by vigil (%d with 408), lifetimes %.1f-%.1f "
      "s; vigil's fds under attack: %d\n",
      slowloris.opened, slowloris.closed_by_vigil, slowloris.answered_408, slowloris.shortest_life,
      slowloris.longest_life, fds_under_attack);
  std::printf("  range query flood: %d requests, %d without an answer, slowest %.2f s\n",
              flood_requests.load(), flood_no_answer.load(), flood_slowest);
  std::printf("  response codes:\n%s", codes.Summary().c_str());

  // Vigil is alive and answers.
  REQUIRE(vigil.proc().Running());
  CHECK(vigil.Get("/-/healthy").has_value());
  for (const auto& [path, n] : failed) {
    INFO(path);
    CHECK(n == 0);
  }
  // The bound of issue 16, on the fast lane. Measured on 2 shared cores (dev build, another
  // engineer's build running): see docs/reliability.md.
  CHECK(Percentile(latency["/metrics"], 0.99) < 100 * testing::kTimeScale);
  CHECK(Percentile(latency["/-/healthy"], 0.99) < 100 * testing::kTimeScale);
  CHECK(Percentile(latency["/-/ready"], 0.99) < 100 * testing::kTimeScale);

  // Every attack got its answer, and nothing hung.
  CHECK(Unexpected(codes.Of("head > 16 KiB"), {431}).empty());
  CHECK(Unexpected(codes.Of("100 header lines"), {431}).empty());
  CHECK(Unexpected(codes.Of("body > 512 KiB"), {413}).empty());
  CHECK(Unexpected(codes.Of("range query flood"), {200, 422, 503}).empty());
  CHECK(Unexpected(codes.Of("invalid UTF-8 in parameters"), {200, 400, 404, 422}).empty());
  for (const std::string& e : utf8_not_json) UNSCOPED_INFO("not JSON: " << e);
  CHECK(utf8_not_json.empty());
  CHECK(flood_no_answer == 0);
  CHECK(flood_slowest < 30 * testing::kTimeScale);
  // The first 200 are closed by the 10 s head timeout, well before the attack ends.
  CHECK(slowloris.closed_by_vigil >= Slowloris::kConnections);
  CHECK(slowloris.shortest_life > 9);

  // Bounded. Measured (dev build): VmHWM ~66 MiB (the 16 MiB body limit, the 300,000-series
  // parse) and 20 threads, steady, whatever the clients do; the bounds leave 4x and 2x.
  double hwm_mib = ProcStatusField(vigil.pid(), "VmHWM:") / 1024;
  int threads_after = static_cast<int>(ProcStatusField(vigil.pid(), "Threads:"));
  std::printf(
      "  vigil RSS: %.0f MiB before the attack, peak sampled %.0f MiB, VmHWM %.0f MiB; threads "
      "%d before, peak %d, %d after\n",
      rss_before_attack, peak_rss_mib, hwm_mib, threads_before_attack, peak_threads, threads_after);
  std::fflush(stdout);
  CHECK(hwm_mib < testing::kMemoryScale * 256);
  CHECK(peak_threads < 32);
  // Every thread but the collector pool's is fixed; the pool grows on demand, at most one
  // thread per collector instance.
  CHECK(fixed_threads() == fixed_before_attack);
  CHECK(CountThreadsNamed(vigil.pid(), "vigil-collect") <= instances);
  CHECK(instances >= static_cast<int>(std::size(kAllTargets)));

  // Each hostile target is down with its limit as the reason; the good one is up. A scrape that
  // ran during the attack may have hit its 1.5 s timeout on a slow sanitized build (the flood
  // holds both cores), so the states are read once a cycle after the attack has settled them.
  const std::map<std::string, std::string> reasons = {
      {"bomb", "body_size_limit"}, {"wide", "label_limit"}, {"series", "sample_limit"}};
  std::map<std::string, nlohmann::json> states;
  auto settled = [&] {
    states = ScrapeStates(vigil);
    for (const char* t : kHostile) {
      if (!states.count(t) || states[t]["up"] != false ||
          states[t]["last_error"].dump().find(reasons.at(t)) == std::string::npos) {
        return false;
      }
    }
    for (const char* t : {"good", "help", "many"}) {
      if (!states.count(t) || states[t]["up"] != true) return false;
    }
    return true;
  };
  (void)WaitFor(settled, std::chrono::milliseconds(static_cast<int>(10'000 * testing::kTimeScale)),
                200ms);
  for (const char* t : kHostile) {
    INFO(t << ": " << states[t].dump());
    CHECK(states[t]["up"] == false);
    CHECK(states[t]["last_error"].dump().find(reasons.at(t)) != std::string::npos);
  }
  for (const char* t : {"good", "help", "many"}) {
    INFO(t << ": " << states[t].dump());
    CHECK(states[t]["up"] == true);
  }
  std::printf("  utf8 target: up %s, last error %s\n", states["utf8"]["up"].dump().c_str(),
              states["utf8"]["last_error"].dump().c_str());

  // /metrics: the good target's samples, the hostile ones down, the window cap counted,
  // nothing injected, and promtool accepts it.
  std::string metrics = vigil.Get("/metrics").value_or("");
  REQUIRE(!metrics.empty());
  for (const char* t : kHostile) {
    INFO(t);
    CHECK(SampleValue(metrics, "vigil_collector_up", {"target=\"" + std::string(t) + "\""}) == 0.0);
  }
  CHECK(SampleValue(metrics, "vigil_collector_up", {"target=\"good\""}) == 1.0);
  CHECK(SampleValue(metrics, "good_requests_total") == 7.0);
  CHECK(SampleValue(metrics, "vigil_window_series_refused_total", {"source=\"scrape/many\""})
            .value_or(0) > 0);
  CHECK(metrics.find("\ninjected_series") == std::string::npos);
  WriteFile(dir.path / "metrics.txt", metrics);
  auto [rc, out] =
      testing::RunCommand("promtool check metrics < " + (dir.path / "metrics.txt").string());
  INFO("promtool: " << out);
  CHECK(rc == 0);
}

}  // namespace
}  // namespace vigil::reliability
