#include "collectors/pgbouncer/pgbouncer_collector.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>

#include "agent/base/clock.h"
#include "agent/base/log.h"
#include "agent/config/config.h"
#include "tests/support/snapshot_util.h"

namespace vigil::collectors {
namespace {

using testing::FindValue;

// A loopback TCP socket: listening (accepts, never answers) or closed (refuses).
struct LoopbackPort {
  int fd = -1;
  int port = 0;
  explicit LoopbackPort(bool listening) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    if (listening) {
      REQUIRE(listen(fd, 8) == 0);
    } else {
      close(fd);
      fd = -1;
    }
  }
  ~LoopbackPort() {
    if (fd >= 0) close(fd);
  }
};

PgbouncerConfig ConfigFor(int port) {
  return PgbouncerConfig{
      "bouncer",
      "host=127.0.0.1 port=" + std::to_string(port) + " user=stats password=dsn-secret-1",
      "hunter2-secret"};
}

TEST_CASE("a pgbouncer that is down gives pgbouncer_up 0, an error, and no password",
          "[pgbouncer]") {
  LoopbackPort closed(false);
  PgbouncerCollector c(ConfigFor(closed.port));
  std::string log;
  SetLogSink(&log);
  for (int i = 0; i < 2; ++i) {  // and again: each cycle connects anew
    MetricSink sink;
    TimestampMs now = SystemClock::Get().Now();
    Status s = c.Collect(CollectContext{now, now + 2000}, sink);
    REQUIRE_FALSE(s.ok());
    INFO(s.message());
    CHECK(s.message().find("127.0.0.1") != std::string::npos);
    CHECK(s.message().find("dsn-secret-1") == std::string::npos);
    CHECK(s.message().find("hunter2") == std::string::npos);
    Snapshot snap = sink.Take();
    CHECK(FindValue(snap, "pgbouncer_up", {{"target", "bouncer"}}) == 0);
    CHECK(snap.size() == 1);
  }
  SetLogSink(nullptr);
  CHECK(log.find("pgbouncer unavailable") != std::string::npos);
  CHECK(log.find("dsn-secret-1") == std::string::npos);
  CHECK(log.find("hunter2") == std::string::npos);
}

TEST_CASE("a pgbouncer that accepts but never answers fails at the deadline", "[pgbouncer]") {
  LoopbackPort hung(true);
  PgbouncerCollector c(ConfigFor(hung.port));
  MetricSink sink;
  TimestampMs now = SystemClock::Get().Now();
  auto t0 = std::chrono::steady_clock::now();
  Status s = c.Collect(CollectContext{now, now + 600}, sink);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kDeadlineExceeded);
  // Finishes before the scheduler's deadline (600 ms), not long before it.
  CHECK(took < std::chrono::milliseconds(600));
  CHECK(took > std::chrono::milliseconds(400));
  CHECK(FindValue(sink.Take(), "pgbouncer_up") == 0);
}

TEST_CASE("pgbouncer config: dsn required and checked, secret from a file, unknown keys",
          "[pgbouncer]") {
  std::string file = "/tmp/vigil-pgbouncer-unit-" + std::to_string(getpid()) + ".pass";
  std::ofstream(file) << "s3cret\n";
  auto ok = ParseConfig(
      "pgbouncer:\n"
      "  - name: bouncer\n"
      "    dsn: \"host=127.0.0.1 port=6432 dbname=pgbouncer user=stats\"\n"
      "    password_file: " +
          file +
          "\n"
          "    interval: 5s\n"
          "    timeout: 2s\n"
          "  - name: uri\n"
          "    dsn: postgresql://stats@127.0.0.1:6432\n",
      "vigil.yml");
  std::remove(file.c_str());
  REQUIRE(ok.ok());
  int n = 0;
  for (const CollectorSpec& spec : ok->collectors) {
    if (spec.kind != "pgbouncer") continue;
    ++n;
    REQUIRE(spec.make);
    CHECK(spec.make() != nullptr);
    if (spec.target == "bouncer") {
      CHECK(spec.interval == Duration(5000));
      CHECK(spec.timeout == Duration(2000));
    }
  }
  CHECK(n == 2);

  auto bad = ParseConfig(
      "pgbouncer:\n"
      "  - name: a\n"
      "  - name: b\n"
      "    dsn: \"host=127.0.0.1 dbname=shop\"\n"
      "  - name: c\n"
      "    dsn: \"host=127.0.0.1 port\"\n"
      "  - name: d\n"
      "    dsn: \"host=127.0.0.1\"\n"
      "    password: x\n"
      "    password_file: /nonexistent\n"
      "  - name: e\n"
      "    dsn: \"host=127.0.0.1\"\n"
      "    databases: auto\n",
      "vigil.yml");
  REQUIRE_FALSE(bad.ok());
  const std::string& msg = bad.status().message();
  INFO(msg);
  CHECK(msg.find("vigil.yml:2:5: pgbouncer[0]") != std::string::npos);
  CHECK(msg.find("\"dsn\"") != std::string::npos);
  CHECK(msg.find("vigil.yml:4:10: pgbouncer[1].dsn: dbname must be pgbouncer") !=
        std::string::npos);
  CHECK(msg.find("vigil.yml:6:10: pgbouncer[2].dsn: invalid DSN") != std::string::npos);
  CHECK(msg.find("give at most one of \"password\" and \"password_file\"") != std::string::npos);
  CHECK(msg.find("vigil.yml:13:5: pgbouncer[4]: unknown key \"databases\"") != std::string::npos);
}

}  // namespace
}  // namespace vigil::collectors
