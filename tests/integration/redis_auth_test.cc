// The Redis collector against a real Redis with AUTH: requirepass (the default user) and an
// ACL user limited to what vigil runs. Wrong or missing credentials give redis_up 0 and an
// error that never shows the password.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "collectors/redis/redis_collector.h"
#include "tests/support/snapshot_util.h"
#include "tests/support/subprocess.h"

namespace vigil::collectors {
namespace {

namespace fs = std::filesystem;
using testing::FindValue;
using testing::RunCommand;

const std::string kServers = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";

Status CollectOnce(const RedisConfig& config, Snapshot* out) {
  RedisCollector c(config);
  MetricSink sink;
  TimestampMs now = SystemClock::Get().Now();
  Status s = c.Collect(CollectContext{now, now + 3000}, sink);
  *out = sink.Take();
  return s;
}

TEST_CASE("redis: requirepass and an ACL user", "[integration][redis]") {
  fs::path dir = fs::temp_directory_path() / ("vigil-redis-auth-" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto [rc, started] = RunCommand(kServers + " start redis " + dir.string());
  REQUIRE(rc == 0);
  struct Stop {
    std::string cmd;
    fs::path dir;
    ~Stop() {
      RunCommand(cmd);
      fs::remove_all(dir);
    }
  } stop{kServers + " stop redis " + dir.string(), dir};
  int port = std::stoi(started);
  std::string cli = "redis-cli --no-auth-warning -h 127.0.0.1 -p " + std::to_string(port);
  const std::string admin_pw = "adm1n-Secret-pw";
  const std::string vigil_pw = "v1gil-Secret-pw";
  auto [arc, aout] =
      RunCommand(cli + " ACL SETUSER vigil on '>" + vigil_pw + "' +info +slowlog +ping");
  INFO(aout);
  REQUIRE(arc == 0);
  REQUIRE(aout.find("OK") != std::string::npos);
  auto [prc, pout] = RunCommand(cli + " CONFIG SET requirepass " + admin_pw);
  REQUIRE(pout.find("OK") != std::string::npos);

  RedisConfig config;
  config.name = "secured";
  config.port = port;
  Snapshot s;

  SECTION("no credentials: NOAUTH, redis_up 0") {
    Status st = CollectOnce(config, &s);
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("NOAUTH") != std::string::npos);
    CHECK(FindValue(s, "redis_up", {{"target", "secured"}}) == 0);
  }
  SECTION("requirepass of the default user") {
    config.password = admin_pw;
    Status st = CollectOnce(config, &s);
    INFO(st.message());
    CHECK(st.ok());
    CHECK(FindValue(s, "redis_up") == 1);
    CHECK(FindValue(s, "redis_connected_clients").value_or(0) >= 1);
  }
  SECTION("an ACL user allowed only INFO, SLOWLOG and PING") {
    config.username = "vigil";
    config.password = vigil_pw;
    Status st = CollectOnce(config, &s);
    INFO(st.message());
    CHECK(st.ok());
    CHECK(FindValue(s, "redis_up") == 1);
    CHECK(FindValue(s, "redis_slowlog_length").has_value());
  }
  SECTION("wrong passwords fail without showing them") {
    config.username = "vigil";
    config.password = "wrong-Secret-1";
    Status st = CollectOnce(config, &s);
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("wrong-Secret-1") == std::string::npos);
    CHECK(FindValue(s, "redis_up") == 0);
    config.username.clear();
    config.password = "wrong-Secret-2";
    st = CollectOnce(config, &s);
    INFO(st.message());
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("wrong-Secret-2") == std::string::npos);
    CHECK(FindValue(s, "redis_up") == 0);
  }
}

}  // namespace
}  // namespace vigil::collectors
