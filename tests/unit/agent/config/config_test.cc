#include "agent/config/config.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/base/config_node.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Each file under testdata/config starts with "# error: <message>" lines: the exact message
// (one line per problem) that loading it must produce.
TEST_CASE("Every bad config file gives its exact error with file:line:column", "[config]") {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(VIGIL_TESTDATA_DIR) / "config")) {
    std::string text = ReadFile(entry.path());
    std::istringstream lines(text);
    std::string line, expected;
    while (std::getline(lines, line) && line.starts_with("# error: ")) {
      if (!expected.empty()) expected += '\n';
      expected += line.substr(9);
    }
    REQUIRE_FALSE(expected.empty());
    Result<Config> config = ParseConfig(text, entry.path().filename().string());
    INFO(entry.path().filename().string());
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().message() == expected);
    ++checked;
  }
  CHECK(checked >= 15);
}

TEST_CASE("A good config is typed and defaults are filled in", "[config]") {
  setenv("VIGIL_TEST_PIDFILE", "/run/shop.pid", 1);
  Result<Config> config = ParseConfig(R"(
global:
  collect_interval: 30s
  collect_timeout: 5s
  external_labels: {env: demo}
  max_series_per_source: 5000
web: {listen_address: "[::1]:9633"}
process:
  - name: shop
    match: {pidfile: "${VIGIL_TEST_PIDFILE}"}
  - name: db
    match: {comm: [postgres, postmaster]}
    interval: 1m
    timeout: 1m
rule_files: [rules/shipped/*.yml]
alerting: {alertmanagers: ["http://127.0.0.1:9093"], queue_capacity: 50}
)",
                                      "vigil.yml");
  REQUIRE(config.ok());
  CHECK(config->global.collect_interval == std::chrono::seconds(30));
  CHECK(config->global.external_labels == Labels{{"env", "demo"}});
  CHECK(config->global.max_series == 100'000);  // the default
  CHECK(config->global.max_series_per_source == 5000);
  CHECK(config->web.listen_address == "[::1]:9633");
  REQUIRE(config->collectors.size() == 3);  // self + two process groups
  const collectors::CollectorSpec& self = config->collectors[0];
  CHECK(self.kind == "self");
  CHECK(self.interval == std::chrono::seconds(30));
  const collectors::CollectorSpec& shop = config->collectors[1];
  CHECK(shop.target == "shop");
  CHECK(shop.timeout == std::chrono::seconds(5));
  CHECK(config->collectors[2].interval == std::chrono::minutes(1));
  CHECK(config->rule_files == std::vector<std::string>{"rules/shipped/*.yml"});
  CHECK(config->alerting.alertmanagers == std::vector<std::string>{"http://127.0.0.1:9093"});
  CHECK(config->alerting.queue_capacity == 50);
  REQUIRE(shop.make);
  CHECK(shop.make() != nullptr);
}

TEST_CASE("Credentials in Alertmanager and external URLs are refused, never repeated", "[config]") {
  Result<Config> bad = ParseConfig(
      "web: {external_url: \"http://ops:pw1@vigil.example\"}\n"
      "alerting: {alertmanagers: [\"http://am:pw2@127.0.0.1:9093\", \"ftp://u:pw3@h\",\n"
      "                          \"http://[::1:9093/\"]}\n",
      "vigil.yml");
  REQUIRE_FALSE(bad.ok());
  const std::string& msg = bad.status().message();
  INFO(msg);
  CHECK(msg.find("web.external_url: credentials in the url are not allowed") != std::string::npos);
  CHECK(msg.find("invalid Alertmanager URL \"http://127.0.0.1:9093\": credentials in the URL "
                 "are not allowed") != std::string::npos);
  CHECK(msg.find("invalid Alertmanager URL \"ftp://h\": want http:// or https://") !=
        std::string::npos);
  CHECK(msg.find("invalid Alertmanager URL \"http://[::1:9093/\": invalid host \"[::1:9093\": "
                 "unbalanced brackets") != std::string::npos);
  for (const char* pw : {"pw1", "pw2", "pw3"}) CHECK(msg.find(pw) == std::string::npos);
}

TEST_CASE("A missing file says so", "[config]") {
  Result<Config> config = LoadConfigFile("/nonexistent/vigil.yml");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().message() == "/nonexistent/vigil.yml: cannot open config file");
  Result<Config> endless = LoadConfigFile("/dev/zero");
  REQUIRE_FALSE(endless.ok());
  CHECK(endless.status().message() == "/dev/zero: config file: larger than 16777216 bytes");
}

TEST_CASE("Environment expansion", "[config]") {
  setenv("VIGIL_TEST_X", "abc", 1);
  CHECK(*ExpandEnv("a${VIGIL_TEST_X}b") == "aabcb");
  CHECK(*ExpandEnv("cost $$5") == "cost $5");
  CHECK(*ExpandEnv("$HOME-less") == "$HOME-less");
  CHECK(ExpandEnv("${VIGIL_TEST_SURELY_UNSET}").status().message() ==
        "environment variable VIGIL_TEST_SURELY_UNSET is not set");
  CHECK_FALSE(ExpandEnv("${OPEN").ok());
  CHECK(*ExpandEnv("n=${VIGIL_TEST_SURELY_UNSET:-10}") == "n=10");
  CHECK(*ExpandEnv("${VIGIL_TEST_X:-10}") == "abc");
  setenv("VIGIL_TEST_EMPTY", "", 1);
  CHECK(*ExpandEnv("${VIGIL_TEST_EMPTY:-d}") == "d");
  CHECK(*ExpandEnv("${VIGIL_TEST_SURELY_UNSET:-}") == "");
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

TEST_CASE("storage: path resolved against the config's directory, outage tolerance", "[config]") {
  Result<Config> c =
      ParseConfig("storage: {path: state, outage_tolerance: 30m}\n", "/etc/vigil/vigil.yml");
  REQUIRE(c.ok());
  CHECK(c->storage.path == "/etc/vigil/state");
  CHECK(c->storage.outage_tolerance == Duration(30 * 60 * 1000));
  Result<Config> abs = ParseConfig("storage: {path: /var/lib/vigil}\n", "vigil.yml");
  REQUIRE(abs.ok());
  CHECK(abs->storage.path == "/var/lib/vigil");
  CHECK(abs->storage.outage_tolerance == Duration(3600000));
  Result<Config> none = ParseConfig("global: {}\n", "vigil.yml");
  REQUIRE(none.ok());
  CHECK(none->storage.path.empty());
  Result<Config> bad = ParseConfig("storage: {pth: x}\n", "vigil.yml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("unknown key \"pth\"") != std::string::npos);
}

}  // namespace
}  // namespace vigil
