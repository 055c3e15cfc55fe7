// Remote write against real receivers: a real Prometheus 2.42 (--web.enable-remote-write-
// receiver) gets what vigil exposes, with no gap across a receiver restart; an in-test
// receiver checks headers, retries on 500/429 and no retry on 400. And an Alertmanager gossip
// cluster: each alert reaches both members and is notified once.
#include <httplib.h>
#include <snappy.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "agent/base/log.h"
#include "agent/notifier/notifier.h"
#include "agent/remote/remote.pb.h"
#include "agent/remote/remote_writer.h"
#include "tests/support/subprocess.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using testing::WaitFor;
using testing::WriteFile;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

std::string HttpGet(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  auto res = c.Get(path.c_str());
  if (!res || res->status != 200) return "";
  return res->body;
}

json PromQuery(int port, const std::string& q) {
  json j =
      json::parse(HttpGet(port, "/api/v1/query?query=" + httplib::detail::encode_query_param(q)),
                  nullptr, false);
  if (!j.is_object() || j["status"] != "success") return json();
  return j["data"];
}

// A series parsed from exposition text: labels (with __name__) -> value.
std::map<std::string, double> ParseExposition(const std::string& text, const std::string& prefix) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || !line.starts_with(prefix)) continue;
    std::size_t sp = line.rfind(' ');
    std::string series = line.substr(0, sp);
    std::string name = series.substr(0, series.find('{'));
    std::string labels = series.find('{') == std::string::npos ? "" : series.substr(name.size());
    // Canonical key: name + labels as exposed (vigil writes them sorted).
    out[name + labels] = std::stod(line.substr(sp + 1));
  }
  return out;
}

std::string EscapeValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The same key for a Prometheus API result, leaving out `skip` (external labels).
std::string KeyOf(const json& metric, const std::set<std::string>& skip) {
  std::string name = metric["__name__"];
  std::string labels;
  for (auto& [k, v] : metric.items()) {
    if (k == "__name__" || skip.count(k)) continue;
    labels += (labels.empty() ? "" : ",") + k + "=\"" + EscapeValue(v.get<std::string>()) + "\"";
  }
  return labels.empty() ? name : name + "{" + labels + "}";
}

// Serves fixed metrics plus a counter that counts the scrapes.
class FakeTarget {
 public:
  FakeTarget() {
    server_.set_tcp_nodelay(true);
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      int n = ++scrapes_;
      res.set_content("# TYPE rwtest_scrapes_total counter\nrwtest_scrapes_total{route=\"/a\"} " +
                          std::to_string(n) +
                          "\n# TYPE rwtest_temperature_celsius gauge\n"
                          "rwtest_temperature_celsius{room=\"lab \\\"2\\\"\"} 21.5\n"
                          "rwtest_temperature_celsius{room=\"hall\"} -3.25e-05\n"
                          "# TYPE rwtest_latency_seconds histogram\n"
                          "rwtest_latency_seconds_bucket{le=\"0.1\"} 3\n"
                          "rwtest_latency_seconds_bucket{le=\"1\"} 7\n"
                          "rwtest_latency_seconds_bucket{le=\"+Inf\"} 8\n"
                          "rwtest_latency_seconds_sum 4.75\nrwtest_latency_seconds_count 8\n",
                      "text/plain; version=0.0.4");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeTarget() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> scrapes_{0};
};

int ReadPort(const std::string& servers_out) {
  std::istringstream in(servers_out);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return std::stoi(last);
}

double MetricValue(const std::string& text, const std::string& series_prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(series_prefix)) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return NAN;
}

TEST_CASE("remote write to a real Prometheus: what /metrics shows, no gap across a restart",
          "[integration][remote]") {
  fs::path dir = fs::temp_directory_path() / ("vigil-rw-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string prom_dir = (dir / "prometheus").string();
  auto [rc, out] = testing::RunCommand(kServers + " start prometheus " + prom_dir);
  INFO(out);
  REQUIRE(rc == 0);
  int prom = ReadPort(out);
  // Stops the Prometheus this test started (by the PID servers.sh recorded) before its
  // directory goes, however the test ends.
  struct StopProm {
    std::string dir;
    fs::path root;
    ~StopProm() {
      testing::RunCommand(kServers + " stop prometheus " + dir);
      fs::remove_all(root);
    }
  } stop_prom{prom_dir, dir};

  FakeTarget target;
  WriteFile(dir / "rules.yml", R"(groups:
  - name: rw
    interval: 1s
    rules:
      - record: rwtest:scrapes:sum
        expr: sum(rwtest_scrapes_total)
)");
  WriteFile(
      dir / "vigil.yml",
      "global: {collect_interval: 1s, evaluation_interval: 1s, external_labels: {fleet: rw}}\n"
      "scrape:\n  - {name: rwtarget, url: \"http://127.0.0.1:" +
          std::to_string(target.port()) +
          "/metrics\"}\n"
          "rule_files: [rules.yml]\n"
          "remote_write:\n  - url: http://127.0.0.1:" +
          std::to_string(prom) +
          "/api/v1/write\n    name: prom\n    remote_timeout: 2s\n"
          "    queue_config: {batch_send_deadline: 200ms, min_backoff: 50ms, "
          "max_backoff: 500ms}\n");
  int port = testing::FreePort();
  testing::Subprocess vigil({VIGIL_BINARY, "--config.file=" + (dir / "vigil.yml").string(),
                             "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                            (dir / "vigil.log").string());
  REQUIRE(testing::WaitForHttp("127.0.0.1", port, "/-/ready", 10s));
  INFO(vigil.Output());
  REQUIRE(WaitFor(
      [&] {
        json d = PromQuery(prom, "rwtest:scrapes:sum");
        return d.is_object() && !d["result"].empty();
      },
      20s));
  // The recording rule's result arrived with the external label.
  json rule = PromQuery(prom, "rwtest:scrapes:sum");
  CHECK(rule["result"][0]["metric"]["fleet"] == "rw");

  // Every series vigil exposes for the target arrives with the same labels and values
  // (the counter moves each second, so for it only the labels are compared).
  std::map<std::string, double> exposed = ParseExposition(HttpGet(port, "/metrics"), "rwtest_");
  REQUIRE(exposed.size() == 8);
  std::map<std::string, double> received;
  REQUIRE(WaitFor(
      [&] {
        json d = PromQuery(prom, "{__name__=~\"rwtest_.+\"}");
        if (!d.is_object()) return false;
        received.clear();
        for (const json& r : d["result"]) {
          CHECK(r["metric"]["fleet"] == "rw");
          received[KeyOf(r["metric"], {"fleet"})] = std::stod(r["value"][1].get<std::string>());
        }
        return received.size() == exposed.size();
      },
      10s));
  for (const auto& [series, value] : exposed) {
    INFO(series);
    REQUIRE(received.count(series) == 1);
    if (!series.starts_with("rwtest_scrapes_total")) CHECK(received[series] == value);
  }
  // vigil's own health series too: vigil_collector_up for the target is 1 on both sides.
  json up = PromQuery(prom, "vigil_collector_up{collector=\"scrape\",target=\"rwtarget\"}");
  REQUIRE(up["result"].size() == 1);
  CHECK(up["result"][0]["value"][1] == "1");

  // The receiver goes away for ~5 s; vigil keeps its samples and retries.
  std::string metrics_before = HttpGet(port, "/metrics");
  testing::RunCommand(kServers + " stop prometheus " + prom_dir);
  auto outage_start = std::chrono::system_clock::now();
  std::this_thread::sleep_for(5s);
  std::string during = HttpGet(port, "/metrics");
  CHECK(MetricValue(during, "vigil_remote_storage_samples_pending{") > 0);
  CHECK(MetricValue(during, "vigil_remote_storage_samples_retried_total{") > 0);
  auto [rc2, out2] = testing::RunCommand("VIGIL_PORT=" + std::to_string(prom) + " " + kServers +
                                         " start prometheus " + prom_dir);
  INFO(out2);
  REQUIRE(rc2 == 0);
  auto outage_end = std::chrono::system_clock::now();
  // The backlog drains.
  REQUIRE(WaitFor(
      [&] {
        return MetricValue(HttpGet(port, "/metrics"), "vigil_remote_storage_samples_pending{") < 20;
      },
      20s));
  std::this_thread::sleep_for(2s);
  std::string after = HttpGet(port, "/metrics");
  CHECK(MetricValue(after, "vigil_remote_storage_samples_failed_total{") == 0);
  CHECK(MetricValue(after, "vigil_remote_storage_samples_dropped_total{") == 0);
  CHECK(MetricValue(after, "vigil_remote_storage_queue_highest_sent_timestamp_seconds{") > 0);

  // Every scrape is there: the counter rises by exactly 1 per sample, timestamps 1 s apart,
  // and samples exist inside the outage.
  json raw = PromQuery(prom, "rwtest_scrapes_total[10m]");
  REQUIRE(raw.is_object());
  REQUIRE(raw["result"].size() == 1);
  const json& values = raw["result"][0]["values"];
  INFO(raw.dump() << "\n"
                  << testing::RunCommand("tail -20 " + prom_dir + "/prometheus.log").second);
  REQUIRE(values.size() >= 8);
  double outage_from = std::chrono::duration<double>(outage_start.time_since_epoch()).count() + 0.5;
  double outage_to = std::chrono::duration<double>(outage_end.time_since_epoch()).count() - 0.5;
  int inside = 0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    double t0 = values[i - 1][0].get<double>(), t1 = values[i][0].get<double>();
    double v0 = std::stod(values[i - 1][1].get<std::string>());
    double v1 = std::stod(values[i][1].get<std::string>());
    INFO("sample " << i << " at " << t1);
    CHECK(v1 == v0 + 1);
    CHECK(t1 - t0 < 1.6);
    if (t1 > outage_from && t1 < outage_to) ++inside;
  }
  CHECK(inside >= 3);

  vigil.Signal(SIGTERM);
  CHECK(vigil.Wait(10s) == 0);
}

// An in-test remote write receiver with a scripted list of answers.
class Receiver {
 public:
  struct Request {
    httplib::Headers headers;
    std::string body;
    std::chrono::steady_clock::time_point at;
  };
  Receiver() {
    server_.set_tcp_nodelay(true);
    server_.Post("/api/v1/write", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      requests_.push_back({req.headers, req.body, std::chrono::steady_clock::now()});
      int status = 200;
      if (!script_.empty()) {
        status = script_.front().first;
        if (!script_.front().second.empty()) {
          res.set_header("Retry-After", script_.front().second);
        }
        script_.erase(script_.begin());
      }
      res.status = status;
      if (status != 200) res.set_content("scripted " + std::to_string(status), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  void Script(std::vector<std::pair<int, std::string>> s) {
    std::lock_guard lock(mu_);
    script_ = std::move(s);
  }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::pair<int, std::string>> script_;
  std::vector<Request> requests_;
};

prompb::WriteRequest Decode(const std::string& body) {
  std::string raw;
  REQUIRE(snappy::Uncompress(body.data(), body.size(), &raw));
  prompb::WriteRequest req;
  REQUIRE(req.ParseFromString(raw));
  return req;
}

TEST_CASE("remote write retries 500 and 429, not 400, with the 1.0 headers",
          "[integration][remote]") {
  Receiver rx;
  fs::path dir = fs::temp_directory_path() / ("vigil-rw-rx-" + std::to_string(getpid()));
  fs::create_directories(dir);
  WriteFile(dir / "token", "tok-SECRET-123\n");
  remote::RemoteWriteConfig c;
  c.url = "http://127.0.0.1:" + std::to_string(rx.port()) + "/api/v1/write";
  c.name = "rx";
  c.timeout = 2s;
  c.bearer_token = "tok-SECRET-123";
  c.queue.max_samples_per_send = 3;
  c.queue.batch_send_deadline = 50ms;
  c.queue.min_backoff = 20ms;
  c.queue.max_backoff = 200ms;
  c.queue.max_shards = 1;
  std::string logs;
  SetLogSink(&logs);
  SetLogLevel(LogLevel::kDebug);
  remote::RemoteWriter w({c}, Labels{{"env", "it"}});
  Labels a{{"__name__", "m"}, {"k", "a"}};

  // 500 then 200: the same batch is sent twice and counted as retried.
  rx.Script({{500, ""}});
  for (int i = 1; i <= 3; ++i) w.Append(a, i * 1000, i);
  REQUIRE(WaitFor([&] { return w.Stats()[0].samples_sent == 3; }, 5s));
  std::vector<Receiver::Request> reqs = rx.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].body == reqs[1].body);
  CHECK(w.Stats()[0].samples_retried == 3);
  for (const Receiver::Request& r : reqs) {
    auto header = [&](const char* k) {
      auto it = r.headers.find(k);
      return it == r.headers.end() ? std::string() : it->second;
    };
    CHECK(header("Content-Encoding") == "snappy");
    CHECK(header("Content-Type") == "application/x-protobuf");
    CHECK(header("X-Prometheus-Remote-Write-Version") == "0.1.0");
    CHECK(header("Authorization") == "Bearer tok-SECRET-123");
    CHECK(header("User-Agent").starts_with("vigil/"));
  }
  prompb::WriteRequest req = Decode(reqs[0].body);
  REQUIRE(req.timeseries_size() == 1);
  CHECK(req.timeseries(0).labels_size() == 3);  // __name__, env, k
  CHECK(req.timeseries(0).samples(2).value() == 3);

  // 429 with Retry-After: 1 waits a second.
  rx.Script({{429, "1"}});
  for (int i = 4; i <= 6; ++i) w.Append(a, i * 1000, i);
  REQUIRE(WaitFor([&] { return w.Stats()[0].samples_sent == 6; }, 5s));
  reqs = rx.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[3].at - reqs[2].at >= 1s);

  // 400: dropped at once, counted as failed, never sent again; the next batch goes through.
  rx.Script({{400, ""}});
  for (int i = 7; i <= 9; ++i) w.Append(a, i * 1000, i);
  REQUIRE(WaitFor([&] { return w.Stats()[0].samples_failed == 3; }, 5s));
  std::this_thread::sleep_for(300ms);
  CHECK(rx.requests().size() == 5);
  CHECK(w.Stats()[0].samples_retried == 6);
  for (int i = 10; i <= 12; ++i) w.Append(a, i * 1000, i);
  REQUIRE(WaitFor([&] { return w.Stats()[0].samples_sent == 9; }, 5s));
  CHECK(Decode(rx.requests().back().body).timeseries(0).samples(0).value() == 10);

  w.Stop(1s);
  SetLogSink(nullptr);
  SetLogLevel(LogLevel::kInfo);
  CHECK(logs.find("remote write refused") != std::string::npos);
  CHECK(logs.find("tok-SECRET-123") == std::string::npos);
  fs::remove_all(dir);
}

// Two Alertmanagers in one gossip cluster, a webhook receiver that counts notifications.
TEST_CASE("an Alertmanager cluster gets each alert on both members and notifies once",
          "[integration][remote][alerting]") {
  fs::path dir = fs::temp_directory_path() / ("vigil-amc-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::mutex mu;
  std::vector<json> notifications;
  httplib::Server hook;
  hook.Post("/hook", [&](const httplib::Request& req, httplib::Response&) {
    std::lock_guard lock(mu);
    notifications.push_back(json::parse(req.body, nullptr, false));
  });
  int hook_port = hook.bind_to_any_port("127.0.0.1");
  std::thread hook_thread([&] { hook.listen_after_bind(); });
  struct StopHook {
    httplib::Server& s;
    std::thread& t;
    ~StopHook() {
      s.stop();
      t.join();
    }
  } stop_hook{hook, hook_thread};

  WriteFile(dir / "am.yml",
            "route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1m, "
            "repeat_interval: 1h}\n"
            "receivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:" +
                std::to_string(hook_port) + "/hook\n        send_resolved: false\n");
  int web[2] = {testing::FreePort(), testing::FreePort()};
  int gossip[2] = {testing::FreePort(), testing::FreePort()};
  std::vector<std::unique_ptr<testing::Subprocess>> ams;
  for (int i = 0; i < 2; ++i) {
    fs::create_directories(dir / ("am" + std::to_string(i)));
    ams.push_back(std::make_unique<testing::Subprocess>(
        std::vector<std::string>{"/usr/bin/prometheus-alertmanager",
                                 "--config.file=" + (dir / "am.yml").string(),
                                 "--storage.path=" + (dir / ("am" + std::to_string(i))).string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(web[i]),
                                 "--cluster.listen-address=127.0.0.1:" + std::to_string(gossip[i]),
                                 "--cluster.peer=127.0.0.1:" + std::to_string(gossip[1 - i]),
                                 "--cluster.peer-timeout=2s", "--cluster.gossip-interval=100ms",
                                 "--cluster.pushpull-interval=1s", "--cluster.settle-timeout=2s"},
        (dir / ("am" + std::to_string(i) + ".log")).string()));
  }
  for (int i = 0; i < 2; ++i) {
    INFO(ams[static_cast<std::size_t>(i)]->Output());
    REQUIRE(testing::WaitForHttp("127.0.0.1", web[i], "/-/ready", 20s));
  }
  // Both see a two-member cluster.
  for (int i = 0; i < 2; ++i) {
    REQUIRE(WaitFor(
        [&] {
          json s = json::parse(HttpGet(web[i], "/api/v2/status"), nullptr, false);
          return s.is_object() && s["cluster"]["status"] == "ready" &&
                 s["cluster"]["peers"].size() == 2;
        },
        20s));
  }

  std::vector<std::string> urls = {"http://127.0.0.1:" + std::to_string(web[0]),
                                   "http://127.0.0.1:" + std::to_string(web[1])};
  Notifier notifier(urls, Labels{{"cluster", "test"}});
  AlertNotification alert;
  alert.labels = Labels{{"alertname", "ClusterDedup"}, {"severity", "page"}};
  alert.annotations = Labels{{"summary", "one notification for two Alertmanagers"}};
  alert.starts_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  alert.generator_url = "http://127.0.0.1:9633/#alerts";
  notifier.Send({alert});

  // Delivered to both members.
  for (int i = 0; i < 2; ++i) {
    REQUIRE(WaitFor(
        [&] {
          json a =
              json::parse(HttpGet(web[i], "/api/v2/alerts?filter=alertname%3D%22ClusterDedup%22"),
                          nullptr, false);
          return a.is_array() && a.size() == 1 && a[0]["labels"]["cluster"] == "test";
        },
        10s));
  }
  // One notification: the first member sends after group_wait, the second waits its peer
  // position's timeout, sees the gossiped notification log entry and stays quiet.
  REQUIRE(WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return !notifications.empty();
      },
      15s));
  std::this_thread::sleep_for(6s);
  {
    std::lock_guard lock(mu);
    INFO(ams[0]->Output() << ams[1]->Output());
    REQUIRE(notifications.size() == 1);
    CHECK(notifications[0]["alerts"].size() == 1);
    CHECK(notifications[0]["alerts"][0]["labels"]["alertname"] == "ClusterDedup");
  }
  for (auto& am : ams) {
    am->Signal(SIGTERM);
    am->Wait(5s);
  }
  notifier.Stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil
