// TLS and basic auth from a web config file, tested with real TLS clients, and known secrets
// (configured passwords, and passwords and literals in statements PostgreSQL shows in
// pg_stat_statements and pg_stat_activity) that must never appear in vigil's logs, /metrics or
// API answers.
#include <crypt.h>
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "collectors/postgres/pg_connection.h"
#include "tests/support/subprocess.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using testing::WriteFile;
using namespace std::chrono_literals;

constexpr char kDbSecret[] = "Pg-s3cret-7f1d9c";
constexpr char kRedisSecret[] = "Rd-s3cret-41ab0e";
constexpr char kWebPassword[] = "Web-pa55-c0ffee";
// Statements run on the server while vigil watches it (pg_stat_statements keeps utility
// statements verbatim; pg_stat_activity shows any statement whole).
constexpr char kRolePassword[] = "hunter2-secret-5e2a";
constexpr char kAlterPassword[] = "hunter2-altered-93b1";
constexpr char kActivitySecret[] = "activity-secret-d41c";
constexpr char kWaiterSecret[] = "waiter-secret-0b7e";

void Exec(collectors::PgConnection& c, const std::string& sql) {
  Result<collectors::QueryResult> r = c.Query(sql);
  if (!r.ok()) FAIL(sql << ": " << r.status().message());
}

std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn("$2b$", 5, nullptr, 0, salt, sizeof salt) != nullptr);
  crypt_data data;
  std::memset(&data, 0, sizeof data);
  const char* hash = crypt_r(password.c_str(), salt, &data);
  REQUIRE(hash != nullptr);
  return hash;
}

TEST_CASE("TLS and basic auth guard every endpoint, secrets never leak",
          "[integration][security]") {
  std::string pg_port = testing::RequireEnv("VIGIL_TEST_PG_PORT");
  std::string redis_port = testing::RequireEnv("VIGIL_TEST_REDIS_PORT");
  fs::path dir = fs::temp_directory_path() / ("vigil-sec-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto [rc, out] = testing::RunCommand(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string());
  INFO(out);
  REQUIRE(rc == 0);
  WriteFile(dir / "web.yml", "tls_server_config:\n  cert_file: " + (dir / "cert.pem").string() +
                                 "\n  key_file: " + (dir / "key.pem").string() +
                                 "\nbasic_auth_users:\n  ops: '" + Bcrypt(kWebPassword) + "'\n");
  WriteFile(dir / "pg-password", std::string(kDbSecret) + "\n");
  // The DSN carries the secret too (a common mistake vigil must survive without leaking).
  WriteFile(dir / "vigil.yml",
            "global: {collect_interval: 1s}\n"
            "postgres:\n  - name: main\n    dsn: \"host=127.0.0.1 port=" +
                pg_port + " dbname=postgres user=postgres password=" + kDbSecret +
                "\"\n"
                "    statements: {interval: 1s, top_n: 500}\n"
                "  - name: other\n    dsn: \"host=127.0.0.1 port=1 dbname=x user=vigil\"\n"
                "    password_file: " +
                (dir / "pg-password").string() +
                "\n"
                "redis:\n  - {name: cache, address: \"127.0.0.1:" +
                redis_port + "\", password: \"" + kRedisSecret + "\"}\n");
  int port = testing::FreePort();
  testing::Subprocess vigil(
      {VIGIL_BINARY, "--config.file=" + (dir / "vigil.yml").string(),
       "--web.config.file=" + (dir / "web.yml").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=debug"},
      (dir / "vigil.log").string());

  httplib::SSLClient tls("127.0.0.1", port);
  tls.set_ca_cert_path((dir / "cert.pem").string().c_str());
  tls.enable_server_certificate_verification(true);
  tls.set_basic_auth("ops", kWebPassword);
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    auto res = tls.Get("/-/ready");
    ready = res && res->status == 200;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  INFO(vigil.Output());
  REQUIRE(ready);
  std::this_thread::sleep_for(1500ms);  // a few collections, failures included

  std::string everything;
  // Secrets in statement text: role passwords (kept verbatim by pg_stat_statements), and a
  // blocker and a waiter whose running statements carry literals (pg_stat_activity).
  collectors::PgConnectOptions as_postgres{
      "host=127.0.0.1 port=" + pg_port + " dbname=postgres user=postgres", "", "", Duration(5000),
      Duration(20000)};
  collectors::PgConnection admin, holder, waiter;
  REQUIRE(admin.Connect(as_postgres).ok());
  REQUIRE(holder.Connect(as_postgres).ok());
  REQUIRE(waiter.Connect(as_postgres).ok());
  std::string role = "vigil_sec_" + std::to_string(getpid());
  std::string table = "vigil_sec_t_" + std::to_string(getpid());
  Exec(admin, "CREATE ROLE " + role + " PASSWORD '" + kRolePassword + "'");
  Exec(admin, "ALTER ROLE " + role + " WITH ENCRYPTED PASSWORD '" + kAlterPassword + "'");
  // A statement is in the top sets for the one interval it ran in: every answer seen counts.
  std::string statements;
  for (int i = 0; i < 40; ++i) {
    for (const char* path : {"/api/v1/postgres/statements", "/metrics"}) {
      if (auto res = tls.Get(path)) statements += res->body;
    }
    if (statements.find("CREATE ROLE " + role + " PASSWORD ?") != std::string::npos &&
        statements.find("ALTER ROLE " + role + " WITH ENCRYPTED PASSWORD ?") != std::string::npos &&
        statements.find("vigil_pg_statement_info{") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  // The statements' shapes are shown (API and info series), their passwords are not.
  CHECK(statements.find("CREATE ROLE " + role + " PASSWORD ?") != std::string::npos);
  CHECK(statements.find("ALTER ROLE " + role + " WITH ENCRYPTED PASSWORD ?") != std::string::npos);
  CHECK(statements.find("query=\"ALTER ROLE " + role) != std::string::npos);
  Exec(admin, "CREATE TABLE " + table + " (v text)");
  Exec(holder, "BEGIN; LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
  std::thread sleeper([&] {
    (void)holder.Query("SELECT pg_sleep(4), '" + std::string(kActivitySecret) + "'");
    (void)holder.Query("COMMIT");
  });
  std::thread blocked([&] {
    (void)waiter.Query("SELECT count(*) FROM " + table + " WHERE v = '" + kWaiterSecret + "'");
  });
  std::string blocking;
  for (int i = 0; i < 30; ++i) {  // until a collection has seen the waiter and its blocker
    std::this_thread::sleep_for(100ms);
    auto res = tls.Get("/api/v1/postgres/blocking");
    if (res && res->body.find("pg_sleep(?), ?") != std::string::npos) {
      blocking = res->body;
      break;
    }
  }
  INFO(blocking);
  // The statements' shapes are shown, their literals are not.
  CHECK(blocking.find("pg_sleep(?), ?") != std::string::npos);
  CHECK(blocking.find("WHERE v = ?") != std::string::npos);
  sleeper.join();
  blocked.join();
  everything += blocking + statements;
  Exec(admin, "DROP TABLE " + table);
  Exec(admin, "DROP ROLE " + role);

  for (const char* path : {"/metrics", "/api/v1/collectors", "/api/v1/rules", "/api/v1/alerts",
                           "/api/v1/postgres/statements", "/api/v1/postgres/blocking",
                           "/api/v1/postgres/horizon", "/api/v1/query?query=up", "/"}) {
    auto res = tls.Get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
    everything += res->body;
  }
  // The horizon attachment is served per target, like blocking.
  CHECK(everything.find("{\"target\":\"main\",\"data\":{\"holders\":[") != std::string::npos);
  CHECK(everything.find("vigil_collector_up{collector=\"postgres\",target=\"main\"} 1") !=
        std::string::npos);

  // Wrong password, no password, and plain HTTP are all refused.
  httplib::SSLClient wrong("127.0.0.1", port);
  wrong.enable_server_certificate_verification(false);
  wrong.set_basic_auth("ops", "guess");
  auto denied = wrong.Get("/metrics");
  REQUIRE(denied);
  CHECK(denied->status == 401);
  httplib::SSLClient anonymous("127.0.0.1", port);
  anonymous.enable_server_certificate_verification(false);
  auto anon = anonymous.Post("/-/reload");
  REQUIRE(anon);
  CHECK(anon->status == 401);
  httplib::Client plain("127.0.0.1", port);
  plain.set_connection_timeout(1, 0);
  plain.set_read_timeout(1, 0);
  auto res_plain = plain.Get("/metrics");
  CHECK((!res_plain || res_plain->status != 200));
  // A real TLS client outside the process: curl verifies the certificate.
  auto [curl_rc, curl_out] = testing::RunCommand(
      "curl -sS --cacert " + (dir / "cert.pem").string() + " -u ops:" + kWebPassword +
      " https://127.0.0.1:" + std::to_string(port) + "/-/healthy");
  CHECK(curl_rc == 0);
  CHECK(curl_out.find("healthy") != std::string::npos);

  vigil.Signal(SIGTERM);
  CHECK(vigil.Wait(5s) == 0);
  std::string log = vigil.Output();
  everything += log;
  CHECK(log.find("postgres unreachable") != std::string::npos);  // the failing one was logged
  for (const char* secret : {kDbSecret, kRedisSecret, kWebPassword, kRolePassword, kAlterPassword,
                             kActivitySecret, kWaiterSecret}) {
    INFO(secret);
    CHECK(everything.find(secret) == std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("A login flood cannot burn the CPU and a bad web config on reload keeps the running one",
          "[integration][security]") {
  fs::path dir = fs::temp_directory_path() / ("vigil-flood-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  WriteFile(dir / "web.yml", "basic_auth_users:\n  ops: '" + Bcrypt(kWebPassword) + "'\n");
  WriteFile(dir / "vigil.yml",
            "global: {collect_interval: 1s}\nprocess:\n  - {name: me, match: {self: true}}\n");
  int port = testing::FreePort();
  testing::Subprocess vigil(
      {VIGIL_BINARY, "--config.file=" + (dir / "vigil.yml").string(),
       "--web.config.file=" + (dir / "web.yml").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(port), "--web.enable-lifecycle"},
      (dir / "vigil.log").string());
  httplib::Client ops("127.0.0.1", port);
  ops.set_basic_auth("ops", kWebPassword);
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    auto res = ops.Get("/-/ready");
    ready = res && res->status == 200;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  INFO(vigil.Output());
  REQUIRE(ready);  // the operator's login is now cached

  // 16 clients, each trying 25 distinct wrong passwords (no cache helps them) for at most 10 s.
  std::atomic<int> refused{0}, busy{0}, other{0};
  std::vector<std::thread> flood;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (int t = 0; t < 16; ++t) {
    flood.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port);
      for (int i = 0; i < 25 && std::chrono::steady_clock::now() < deadline; ++i) {
        c.set_basic_auth("ops", "guess-" + std::to_string(t) + "-" + std::to_string(i));
        auto res = c.Get("/metrics");
        if (res && res->status == 401) {
          ++refused;
        } else if (res && res->status == 429) {
          ++busy;
        } else {
          ++other;
        }
      }
    });
  }
  // Meanwhile the operator, already logged in, is answered at once.
  int slow = 0;
  for (int i = 0; i < 20; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto res = ops.Get("/metrics");
    REQUIRE(res);
    CHECK(res->status == 200);
    if (std::chrono::steady_clock::now() - start > 500ms) ++slow;
    std::this_thread::sleep_for(20ms);
  }
  for (auto& th : flood) th.join();
  INFO("401: " << refused << ", 429: " << busy << ", other: " << other);
  CHECK(other == 0);
  CHECK(refused > 0);
  CHECK(busy > 0);  // concurrent guesses beyond the one bcrypt at a time are turned away
  CHECK(slow == 0);
  // The same wrong guess again is answered from the cache of refusals.
  httplib::Client again("127.0.0.1", port);
  again.set_basic_auth("ops", "guess-0-0");
  auto cached = again.Get("/metrics");
  REQUIRE(cached);
  CHECK((cached->status == 401 || cached->status == 429));

  // A malformed web config on reload: an error, the running users stay.
  WriteFile(dir / "web.yml", "basic_auth_users: [\n");
  auto reload = ops.Post("/-/reload");
  REQUIRE(reload);
  CHECK(reload->status == 500);
  CHECK(reload->body.find("web.yml") != std::string::npos);
  auto still = ops.Get("/metrics");
  REQUIRE(still);
  CHECK(still->status == 200);
  CHECK(still->body.find("vigil_config_last_reload_successful 0\n") != std::string::npos);
  httplib::Client anonymous("127.0.0.1", port);
  auto anon = anonymous.Get("/metrics");
  REQUIRE(anon);
  CHECK(anon->status == 401);

  vigil.Signal(SIGTERM);
  CHECK(vigil.Wait(5s) == 0);
  CHECK(vigil.Output().find(kWebPassword) == std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil
