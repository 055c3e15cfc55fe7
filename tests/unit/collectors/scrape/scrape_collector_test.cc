#include "collectors/scrape/scrape_collector.h"

#include <httplib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/config/config.h"
#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
namespace {

using namespace std::chrono_literals;
using testing::FindValue;

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(VIGIL_TESTDATA_DIR) + "/scrape/" + name, std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An in-process HTTP target on a loopback port.
struct Target {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::string accept_encoding;
  std::string authorization;
  Target() {
    server.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      accept_encoding = req.get_header_value("Accept-Encoding");
      authorization = req.get_header_value("Authorization");
      res.set_content(ReadFixture("good.prom"), "text/plain; version=0.0.4");
    });
    server.Get("/bad", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(ReadFixture("malformed.prom"), "text/plain");
    });
    server.Get("/error", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content("down", "text/plain");
    });
    server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(1500ms);
      res.set_content("x 1\n", "text/plain");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    for (int i = 0; i < 200 && !server.is_running(); ++i) std::this_thread::sleep_for(5ms);
  }
  ~Target() {
    server.stop();
    thread.join();
  }
};

ScrapeConfig ConfigFor(int port, const std::string& path) {
  ScrapeConfig c;
  c.name = "shop";
  c.job = "shop";
  c.scheme_host_port = "http://127.0.0.1:" + std::to_string(port);
  c.path = path;
  c.url = c.scheme_host_port + path;
  c.instance = "127.0.0.1:" + std::to_string(port);
  return c;
}

Status CollectOnce(ScrapeCollector& c, Snapshot& out, Duration timeout = 2000ms) {
  MetricSink sink;
  TimestampMs now = SystemClock::Get().Now();
  Status s = c.Collect(CollectContext{now, now + timeout.count()}, sink);
  out = sink.Take();
  return s;
}

TEST_CASE("scrape: samples with job and instance, clashing labels exported_, gzip", "[scrape]") {
  Target t;
  ScrapeConfig config = ConfigFor(t.port, "/metrics");
  ScrapeCollector c(config);
  Snapshot s;
  Status st = CollectOnce(c, s);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(t.accept_encoding.find("gzip") != std::string::npos);
  CHECK(FindValue(s, "http_requests_total",
                  {{"job", "shop"}, {"instance", config.instance}, {"code", "200"}}) == 1027);
  // The scraped job label moved aside.
  CHECK(FindValue(s, "indented_with_tab", {{"job", "shop"}, {"exported_job", "scraped"}}) == 1);
  CHECK(FindValue(s, "scrape_samples_scraped", {{"job", "shop"}}) == 23);
  auto d = FindValue(s, "scrape_duration_seconds", {{"job", "shop"}});
  REQUIRE(d);
  CHECK(*d > 0);
  CHECK(*d < 2);
  CHECK(FindValue(s, "rpc_duration_seconds", {{"job", "shop"}}, SampleSuffix::kCount) == 2693);

  config.honor_labels = true;
  ScrapeCollector honor(config);
  REQUIRE(CollectOnce(honor, s).ok());
  CHECK(FindValue(s, "indented_with_tab", {{"job", "scraped"}}) == 1);
}

TEST_CASE("scrape: sample_limit fails the scrape and keeps no samples", "[scrape]") {
  Target t;
  ScrapeConfig config = ConfigFor(t.port, "/metrics");
  config.sample_limit = 10;
  ScrapeCollector c(config);
  Snapshot s;
  Status st = CollectOnce(c, s);
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("23 samples exceed sample_limit 10") != std::string::npos);
  CHECK_FALSE(FindValue(s, "http_requests_total").has_value());
  CHECK(FindValue(s, "scrape_samples_scraped") == 23);
}

TEST_CASE("scrape: bad lines keep the good samples but fail the scrape", "[scrape]") {
  Target t;
  ScrapeCollector c(ConfigFor(t.port, "/bad"));
  Snapshot s;
  Status st = CollectOnce(c, s);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK(st.message().find("13 bad line(s), first: line 3: unexpected character '}'") !=
        std::string::npos);
  CHECK(FindValue(s, "good_gauge", {{"path", "/a"}}) == 8);
}

TEST_CASE("scrape: HTTP errors, refused connections and timeouts", "[scrape]") {
  Target t;
  Snapshot s;
  ScrapeCollector err(ConfigFor(t.port, "/error"));
  Status st = CollectOnce(err, s);
  CHECK(st.message().find("HTTP status 503") != std::string::npos);
  CHECK(FindValue(s, "scrape_samples_scraped") == 0);

  ScrapeCollector slow(ConfigFor(t.port, "/slow"));
  auto t0 = std::chrono::steady_clock::now();
  st = CollectOnce(slow, s, 300ms);
  CHECK_FALSE(st.ok());
  CHECK(std::chrono::steady_clock::now() - t0 < 1200ms);

  int dead_port = t.port;
  {
    Target other;  // another port, then closed
    dead_port = other.port;
  }
  ScrapeCollector refused(ConfigFor(dead_port, "/metrics"));
  st = CollectOnce(refused, s);
  CHECK(st.code() == Status::Code::kUnavailable);
}

TEST_CASE("scrape: basic auth and bearer token are sent, never in errors", "[scrape]") {
  Target t;
  ScrapeConfig config = ConfigFor(t.port, "/metrics");
  config.username = "vigil";
  config.password = "pa55word";
  ScrapeCollector basic(config);
  Snapshot s;
  REQUIRE(CollectOnce(basic, s).ok());
  CHECK(t.authorization == "Basic dmlnaWw6cGE1NXdvcmQ=");  // base64 of vigil:pa55word
  config.username.clear();
  config.bearer_token = "tok3n";
  config.path = "/error";
  ScrapeCollector bearer(config);
  Status st = CollectOnce(bearer, s);
  CHECK(st.message().find("tok3n") == std::string::npos);
}

TEST_CASE("scrape config: url checks, defaults and auth", "[scrape]") {
  auto ok = ParseConfig(
      "scrape:\n"
      "  - name: shop\n"
      "    url: http://127.0.0.1:8080/metrics\n"
      "    sample_limit: 5000\n"
      "    basic_auth: {username: u, password: p}\n",
      "vigil.yml");
  REQUIRE(ok.ok());
  auto bad = ParseConfig(
      "scrape:\n"
      "  - name: a\n"
      "    url: ftp://u:pw0@x/metrics\n"
      "  - name: b\n"
      "    url: http://user:pw@127.0.0.1:1/\n"
      "  - name: c\n"
      "  - name: d\n"
      "    url: http://127.0.0.1:1/\n"
      "    basic_auth: {username: u, password: p}\n"
      "    bearer_token: t\n"
      "    sample_limt: 3\n"
      "  - name: e\n"
      "    url: http://127.0.0.1:99999/metrics\n",
      "vigil.yml");
  REQUIRE_FALSE(bad.ok());
  const std::string& msg = bad.status().message();
  INFO(msg);
  CHECK(msg.find("vigil.yml:3:10: scrape[0].url: invalid url \"ftp://x/metrics\"") !=
        std::string::npos);
  CHECK(msg.find("scrape[1].url: credentials in the url are not allowed") != std::string::npos);
  CHECK(msg.find("pw@") == std::string::npos);
  CHECK(msg.find("pw0") == std::string::npos);        // a bad url is shown without its userinfo
  CHECK(msg.find("scrape[2]") != std::string::npos);  // url is required
  CHECK(msg.find("give at most one of basic_auth and bearer_token") != std::string::npos);
  CHECK(msg.find("unknown key \"sample_limt\"") != std::string::npos);
  CHECK(msg.find("scrape[4].url: invalid url \"http://127.0.0.1:99999/metrics\": invalid host "
                 "\"127.0.0.1:99999\": want a port from 1 to 65535") != std::string::npos);
}

const ScrapeConfig& OnlyScrapeConfig(const Config& config) {
  auto spec = std::find_if(config.collectors.begin(), config.collectors.end(),
                           [](const CollectorSpec& c) { return c.kind == "scrape"; });
  REQUIRE(spec != config.collectors.end());
  static std::unique_ptr<Collector> made;
  made = spec->make();
  auto* scrape = dynamic_cast<ScrapeCollector*>(made.get());
  REQUIRE(scrape != nullptr);
  return scrape->config();
}

TEST_CASE("scrape config: limits have bounded defaults, units and no 0", "[scrape][limits]") {
  auto defaults = ParseConfig("scrape:\n  - {name: a, url: http://127.0.0.1:1/}\n", "vigil.yml");
  REQUIRE(defaults.ok());
  const ScrapeConfig& d = OnlyScrapeConfig(*defaults);
  CHECK(d.body_size_limit == 16u << 20);
  CHECK(d.sample_limit == 50'000);
  CHECK(d.label_limit == 64);
  CHECK(d.label_name_length_limit == 256);
  CHECK(d.label_value_length_limit == 4096);

  auto set = ParseConfig(
      "scrape:\n"
      "  - name: a\n"
      "    url: http://127.0.0.1:1/\n"
      "    body_size_limit: 512KiB\n"
      "    sample_limit: 1000\n"
      "    label_limit: 30\n"
      "    label_name_length_limit: 100\n"
      "    label_value_length_limit: 200\n",
      "vigil.yml");
  REQUIRE(set.ok());
  const ScrapeConfig& s = OnlyScrapeConfig(*set);
  CHECK(s.body_size_limit == 512u << 10);
  CHECK(s.sample_limit == 1000);
  CHECK(s.label_limit == 30);
  CHECK(s.label_name_length_limit == 100);
  CHECK(s.label_value_length_limit == 200);
  for (auto [text, bytes] : {std::pair<const char*, std::size_t>{"2048", 2048},
                             {"64MB", 64u << 20},
                             {"1GiB", 1u << 30},
                             {"4KB", 4096}}) {
    auto r = ParseConfig(std::string("scrape:\n  - {name: a, url: http://127.0.0.1:1/, "
                                     "body_size_limit: ") +
                             text + "}\n",
                         "vigil.yml");
    INFO(text);
    REQUIRE(r.ok());
    CHECK(OnlyScrapeConfig(*r).body_size_limit == bytes);
  }

  auto bad = ParseConfig(
      "scrape:\n"
      "  - name: a\n"
      "    url: http://127.0.0.1:1/\n"
      "    body_size_limit: 0\n"
      "    sample_limit: 0\n"
      "    label_limit: 2\n"
      "    label_name_length_limit: -1\n"
      "    label_value_length_limit: lots\n"
      "  - name: b\n"
      "    url: http://127.0.0.1:1/\n"
      "    body_size_limit: 16 MiB\n"
      "  - name: c\n"
      "    url: http://127.0.0.1:1/\n"
      "    body_size_limit: 2GiB\n",
      "vigil.yml");
  REQUIRE_FALSE(bad.ok());
  const std::string& msg = bad.status().message();
  INFO(msg);
  CHECK(msg.find("vigil.yml:4:22: scrape[0].body_size_limit: 0 (no limit) is not allowed; the "
                 "largest is 1073741824") != std::string::npos);
  CHECK(msg.find("vigil.yml:5:19: scrape[0].sample_limit: 0 (no limit) is not allowed") !=
        std::string::npos);
  CHECK(msg.find("vigil.yml:6:18: scrape[0].label_limit: must be between 3 and 100000, got 2") !=
        std::string::npos);
  CHECK(msg.find("vigil.yml:7:30: scrape[0].label_name_length_limit: must be between 1") !=
        std::string::npos);
  CHECK(msg.find("vigil.yml:8:31: scrape[0].label_value_length_limit: want an integer, got "
                 "\"lots\"") != std::string::npos);
  CHECK(msg.find("vigil.yml:11:22: scrape[1].body_size_limit: invalid size \"16 MiB\"") !=
        std::string::npos);
  CHECK(msg.find("vigil.yml:14:22: scrape[2].body_size_limit: must be between 1024 and "
                 "1073741824 bytes, got 2GiB") != std::string::npos);
}

}  // namespace
}  // namespace vigil::collectors
