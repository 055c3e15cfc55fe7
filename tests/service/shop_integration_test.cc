// shop against real PostgreSQL and Redis (tests/support/with-servers.sh provides them).
#include <httplib.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "agent/base/log.h"
#include "service/load/load_runner.h"
#include "service/pg_connection.h"
#include "service/schema.h"
#include "service/shop_server.h"

namespace vigil::shop {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::int64_t kProducts = 300;
constexpr std::int64_t kUsers = 40;

int RequiredPort(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    FAIL(std::string(name) +
         " is not set: run the integration tests under tests/support/with-servers.sh");
  }
  return std::atoi(v);
}

std::string AdminDsn() {
  return "host=127.0.0.1 port=" + std::to_string(RequiredPort("VIGIL_TEST_PG_PORT")) +
         " user=postgres dbname=postgres";
}

void AdminSql(const std::string& sql, const std::string& dsn = AdminDsn()) {
  PGconn* c = PQconnectdb(dsn.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  const std::string err = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  INFO(sql << ": " << err);
  REQUIRE(ok);
}

// One database per test process, migrated and seeded with small volumes.
const std::string& TestDsn() {
  static const std::string dsn = [] {
    const std::string db = "shop_it_" + std::to_string(getpid());
    AdminSql("DROP DATABASE IF EXISTS " + db);
    AdminSql("CREATE DATABASE " + db);
    const std::string d =
        "host=127.0.0.1 port=" + std::to_string(RequiredPort("VIGIL_TEST_PG_PORT")) +
        " user=postgres dbname=" + db;
    PgConnectOptions o;
    o.dsn = d;
    auto conn = PgConnection::Connect(o, nullptr);
    REQUIRE(conn.ok());
    REQUIRE(Migrate(**conn).ok());
    REQUIRE(Migrate(**conn).ok());  // idempotent
    SeedOptions s;
    s.products = kProducts;
    s.users = kUsers;
    s.orders = 200;
    auto report = Seed(**conn, s);
    REQUIRE(report.ok());
    REQUIRE(report->order_items >= 200);
    return d;
  }();
  return dsn;
}

ShopConfig TestConfig(int redis_port = 0) {
  ShopConfig c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.pg.dsn = TestDsn();
  c.redis.host = "127.0.0.1";
  c.redis.port = redis_port != 0 ? redis_port : RequiredPort("VIGIL_TEST_REDIS_PORT");
  c.redis.key_prefix = "shop_it_" + std::to_string(getpid());  // test processes share Redis
  c.redis.retry_interval = milliseconds(200);
  c.worker_threads = 16;
  c.pool.max_size = 4;
  c.admin_endpoints = true;
  c.fault_injection = true;
  return c;
}

struct Running {
  explicit Running(ShopConfig c) : server(std::move(c)) {
    REQUIRE(server.Start().ok());
    client = std::make_unique<httplib::Client>("127.0.0.1", server.port());
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_read_timeout(10, 0);
  }
  ShopServer server;
  std::unique_ptr<httplib::Client> client;
};

json Body(const httplib::Result& r) {
  REQUIRE(r);
  json j = json::parse(r->body, nullptr, false);
  INFO(r->body);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// Sum of the samples of `name` (with an optional label substring) in shop's /metrics.
double MetricSum(httplib::Client& c, const std::string& name, const std::string& label = "") {
  auto r = c.Get("/metrics");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  double sum = 0;
  std::size_t pos = 0;
  const std::string& text = r->body;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != '{' && next != ' ') continue;
    if (!label.empty() && line.find(label) == std::string::npos) continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

TEST_CASE("happy paths: products, users and orders", "[integration]") {
  Running s(TestConfig());
  auto& c = *s.client;

  SECTION("health and readiness") {
    CHECK(c.Get("/healthz")->status == 200);
    auto ready = c.Get("/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 200);
    CHECK(Body(ready)["postgres"] == "ok");
  }

  SECTION("a product, then the same product from the cache") {
    const double hits = MetricSum(c, "cache_requests_total", R"(group="product",result="hit")");
    auto a = c.Get("/api/products/7");
    auto b = c.Get("/api/products/7");
    REQUIRE(a->status == 200);
    REQUIRE(b->status == 200);
    CHECK(a->body == b->body);
    CHECK(Body(a)["id"] == 7);
    CHECK(Body(a).contains("search_vector") == false);
    CHECK(MetricSum(c, "cache_requests_total", R"(group="product",result="hit")") >= hits + 1);
  }

  SECTION("cursor pagination visits every product exactly once") {
    std::set<std::int64_t> seen;
    std::string cursor;
    int pages = 0;
    for (; pages < 100; ++pages) {
      auto r = c.Get("/api/products?limit=37" + (cursor.empty() ? "" : "&cursor=" + cursor));
      REQUIRE(r->status == 200);
      json page = Body(r);
      for (const json& p : page["items"]) CHECK(seen.insert(p["id"].get<std::int64_t>()).second);
      if (page["next_cursor"].is_null()) break;
      cursor = page["next_cursor"];
    }
    CHECK(static_cast<std::int64_t>(seen.size()) >= kProducts);
    CHECK(pages == 8);  // ceil(300 / 37) = 9 pages: 8 with a cursor after them, then the end
  }

  SECTION("search finds products by words of their name") {
    auto p = Body(c.Get("/api/products/11"));
    const std::string name = p["name"];
    const std::string word = name.substr(0, name.find(' '));
    auto r = c.Get(("/api/products/search?q=" + word).c_str());
    REQUIRE(r->status == 200);
    json items = Body(r)["items"];
    REQUIRE_FALSE(items.empty());
    for (const json& item : items) {
      CHECK(item["name"].get<std::string>().find(word) != std::string::npos);
    }
  }

  SECTION("an order is created in a transaction, listed with its items, and stock moves") {
    const auto before = Body(c.Get("/api/products/12"));  // now cached
    json order_body = {
        {"user_id", 5},
        {"items", {{{"product_id", 12}, {"quantity", 3}}, {{"product_id", 13}, {"quantity", 1}}}}};
    auto listed_before = Body(c.Get("/api/users/5/orders?limit=50"));  // cached too
    auto r = c.Post("/api/orders", order_body.dump(), "application/json");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 201);
    json order = Body(r);
    CHECK(order["user_id"] == 5);
    REQUIRE(order["items"].size() == 2);
    CHECK(order["total_cents"] ==
          3 * before["price_cents"].get<std::int64_t>() +
              Body(c.Get("/api/products/13"))["price_cents"].get<std::int64_t>());
    // Invalidation: the product and the user's order list show the write at once.
    auto after = Body(c.Get("/api/products/12"));
    CHECK(after["stock"] == before["stock"].get<std::int64_t>() - 3);
    auto listed = Body(c.Get("/api/users/5/orders?limit=50"));
    CHECK(listed["items"].size() == listed_before["items"].size() + 1);
    CHECK(listed["items"][0]["id"] == order["id"]);
    CHECK(listed["items"][0]["items"].size() == 2);
    auto got =
        Body(c.Get(("/api/orders/" + std::to_string(order["id"].get<std::int64_t>())).c_str()));
    CHECK(got == order);
  }

  SECTION("users are created and read back") {
    auto r = c.Post("/api/users", R"({"email":"new-user@example.com","name":"New User"})",
                    "application/json");
    REQUIRE(r->status == 201);
    const auto id = Body(r)["id"].get<std::int64_t>();
    auto got = Body(c.Get(("/api/users/" + std::to_string(id)).c_str()));
    CHECK(got["email"] == "new-user@example.com");
    auto orders = Body(c.Get(("/api/users/" + std::to_string(id) + "/orders").c_str()));
    CHECK(orders["items"].empty());
    CHECK(orders["next_cursor"].is_null());
  }

  SECTION("updates invalidate the cached product") {
    Body(c.Get("/api/products/20"));
    auto r = c.Patch("/api/products/20", R"({"price_cents":4242})", "application/json");
    REQUIRE(r->status == 200);
    CHECK(Body(c.Get("/api/products/20"))["price_cents"] == 4242);
  }

  SECTION("the unindexed sales report aggregates order items") {
    auto r = c.Get("/api/products/1/sales");
    REQUIRE(r->status == 200);
    json sales = Body(r);
    CHECK(sales["product_id"] == 1);
    CHECK(sales["days"].is_array());
  }

  SECTION("large responses are compressed when the client accepts gzip; small ones are not") {
    httplib::Client raw("127.0.0.1", s.server.port());
    raw.set_decompress(false);
    auto big = raw.Get("/api/products?limit=100", {{"Accept-Encoding", "gzip"}});
    REQUIRE(big->status == 200);
    CHECK(big->get_header_value("Content-Encoding") == "gzip");
    auto small = raw.Get("/api/products/3", {{"Accept-Encoding", "gzip"}});
    REQUIRE(small->status == 200);
    CHECK(small->get_header_value("Content-Encoding").empty());
  }
}

struct ErrorCase {
  const char* method;
  const char* path;
  const char* body;
  const char* content_type;
  int status;
  const char* code;
  const char* field;
};

TEST_CASE("every error status has a JSON body naming the problem", "[integration]") {
  ShopConfig config = TestConfig();
  config.max_body_bytes = 1024;
  Running s(config);
  auto& c = *s.client;
  REQUIRE(c.Post("/api/users", R"({"email":"taken@example.com","name":"T"})", "application/json")
              ->status == 201);
  const std::string big(2000, 'x');
  const std::string big_body = R"({"email":"a@b.c","name":")" + big + "\"}";
  const ErrorCase cases[] = {
      {"GET", "/api/products/abc", "", "", 400, "invalid_field", "id"},
      {"GET", "/api/products/0", "", "", 400, "invalid_field", "id"},
      {"GET", "/api/products/99999999999999999999", "", "", 400, "invalid_field", "id"},
      {"GET", "/api/products?limit=0", "", "", 400, "invalid_field", "limit"},
      {"GET", "/api/products?limit=abc", "", "", 400, "invalid_field", "limit"},
      {"GET", "/api/products?cursor=bogus", "", "", 400, "invalid_field", "cursor"},
      {"GET", "/api/products?sort=price", "", "", 400, "invalid_field", "sort"},
      {"GET", "/api/products/search", "", "", 400, "invalid_field", "q"},
      {"POST", "/api/users", "not json", "application/json", 400, "invalid_field", "body"},
      {"POST", "/api/users", "[1,2]", "application/json", 400, "invalid_field", "body"},
      {"POST", "/api/users", R"({"email":"a@b.c"})", "application/json", 400, "invalid_field",
       "name"},
      {"POST", "/api/users", R"({"email":"a@b.c","name":"x","admin":true})", "application/json",
       400, "invalid_field", "admin"},
      {"POST", "/api/users", R"({"email":"no-at-sign","name":"x"})", "application/json", 400,
       "invalid_field", "email"},
      {"POST", "/api/orders", R"({"user_id":1,"items":[]})", "application/json", 400,
       "invalid_field", "items"},
      {"POST", "/api/orders", R"({"user_id":1,"items":[{"product_id":1,"quantity":"2"}]})",
       "application/json", 400, "invalid_field", "items[0].quantity"},
      {"POST", "/api/orders",
       R"({"user_id":1,"items":[{"product_id":1,"quantity":1},{"product_id":1,"quantity":1}]})",
       "application/json", 400, "invalid_field", "items[1].product_id"},
      {"PATCH", "/api/products/1", "{}", "application/json", 400, "invalid_field", "body"},
      {"GET", "/api/products/999999", "", "", 404, "not_found", ""},
      {"GET", "/api/users/999999", "", "", 404, "not_found", ""},
      {"GET", "/api/users/999999/orders", "", "", 404, "not_found", ""},
      {"GET", "/api/orders/999999", "", "", 404, "not_found", ""},
      {"GET", "/api/nothing-here", "", "", 404, "not_found", ""},
      {"POST", "/api/orders", R"({"user_id":999999,"items":[{"product_id":1,"quantity":1}]})",
       "application/json", 404, "not_found", ""},
      {"POST", "/api/orders", R"({"user_id":1,"items":[{"product_id":999999,"quantity":1}]})",
       "application/json", 404, "not_found", ""},
      {"POST", "/api/users", R"({"email":"taken@example.com","name":"Again"})", "application/json",
       409, "conflict", ""},
      {"POST", "/api/users", big_body.c_str(), "application/json", 413, "payload_too_large", ""},
      {"POST", "/api/users", R"({"email":"a@b.c","name":"x"})", "text/plain", 415,
       "unsupported_media_type", "Content-Type"},
  };
  for (const ErrorCase& e : cases) {
    CAPTURE(e.method, e.path, e.body);
    httplib::Result r = std::string(e.method) == "GET"    ? c.Get(e.path)
                        : std::string(e.method) == "POST" ? c.Post(e.path, e.body, e.content_type)
                                                          : c.Patch(e.path, e.body, e.content_type);
    REQUIRE(r);
    CHECK(r->status == e.status);
    json body = Body(r);
    CHECK(body["error"]["code"] == e.code);
    CHECK_FALSE(body["error"]["message"].get<std::string>().empty());
    if (*e.field != '\0') CHECK(body["error"]["field"] == e.field);
    CHECK(r->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  }

  SECTION("409 when stock runs out, and the failed order changes nothing") {
    auto before = Body(c.Get("/api/products/30"));
    REQUIRE(c.Patch("/api/products/30", R"({"stock":2})", "application/json")->status == 200);
    auto r = c.Post(
        "/api/orders",
        R"({"user_id":2,"items":[{"product_id":31,"quantity":1},{"product_id":30,"quantity":3}]})",
        "application/json");
    REQUIRE(r->status == 409);
    CHECK(Body(r)["error"]["code"] == "conflict");
    CHECK(Body(c.Get("/api/products/30"))["stock"] == 2);
    (void)before;
  }
}

TEST_CASE("rate limit answers 429 with Retry-After", "[integration]") {
  ShopConfig config = TestConfig();
  config.rate_limit_rps = 1;
  config.rate_limit_burst = 3;
  Running s(config);
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = s.client->Get("/api/products/1");
    REQUIRE(r);
    if (r->status == 429) {
      ++limited;
      CHECK(Body(r)["error"]["code"] == "rate_limited");
      CHECK(std::atoi(r->get_header_value("Retry-After").c_str()) >= 1);
    }
  }
  CHECK(limited >= 2);
  CHECK(s.client->Get("/healthz")->status == 200);  // not rate limited
}

TEST_CASE("SQL-injection-shaped input is stored and returned verbatim", "[integration]") {
  Running s(TestConfig());
  auto& c = *s.client;
  const std::string nasty[] = {"Robert'); DROP TABLE users;--",    "' OR '1'='1",
                               "\\x00\\'; SELECT pg_sleep(5); --", "100% _match_ $1 $$quoted$$",
                               "Ünïcødé ✓ \"quotes\" \t tab",      "/* comment */ --"};
  int n = 0;
  for (const std::string& text : nasty) {
    CAPTURE(text);
    json user = {{"email", "inj" + std::to_string(n++) + "'--@example.com"}, {"name", text}};
    auto r = c.Post("/api/users", user.dump(), "application/json");
    REQUIRE(r->status == 201);
    const auto id = Body(r)["id"].get<std::int64_t>();
    json got = Body(c.Get(("/api/users/" + std::to_string(id)).c_str()));
    CHECK(got["name"] == text);
    CHECK(got["email"] == user["email"]);

    json product = {{"sku", "INJ-" + std::to_string(n) + text},
                    {"name", text},
                    {"description", text},
                    {"category", text},
                    {"price_cents", 1},
                    {"stock", 1}};
    auto p = c.Post("/api/products", product.dump(), "application/json");
    REQUIRE(p->status == 201);
    json gotp =
        Body(c.Get(("/api/products/" + std::to_string(Body(p)["id"].get<std::int64_t>())).c_str()));
    CHECK(gotp["name"] == text);
    CHECK(gotp["sku"] == product["sku"]);

    httplib::Params params = {{"q", text}};
    auto search = c.Get("/api/products/search", params, httplib::Headers{});
    REQUIRE(search->status == 200);
    CHECK(Body(search)["items"].is_array());
    httplib::Params cat = {{"category", text}};
    auto by_category = c.Get("/api/products", cat, httplib::Headers{});
    REQUIRE(by_category->status == 200);
    CHECK(Body(by_category)["items"].size() == 1);  // exactly the product created above
  }
  // The tables are intact.
  CHECK(c.Get("/api/users/1")->status == 200);
  CHECK(c.Get("/api/products/1")->status == 200);
  // NUL cannot be stored in PostgreSQL text: rejected as invalid input, not a 500.
  auto nul =
      c.Post("/api/users", R"({"email":"n@example.com","name":"a\u0000b"})", "application/json");
  CHECK(nul->status == 400);
}

TEST_CASE("an exhausted pool answers 503 within the acquire timeout", "[integration]") {
  ShopConfig config = TestConfig();
  config.pool.min_size = 1;
  config.pool.max_size = 1;
  config.pool.acquire_timeout = milliseconds(300);
  Running s(config);
  auto held = s.server.pool().Acquire();  // the only connection
  REQUIRE(held.ok());
  const auto start = std::chrono::steady_clock::now();
  auto r = s.client->Get("/api/orders/1");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(Body(r)["error"]["code"] == "pool_exhausted");
  CHECK(r->get_header_value("Retry-After") == "1");
  CHECK(elapsed >= milliseconds(280));
  CHECK(elapsed < milliseconds(1500));
  CHECK(MetricSum(*s.client, "db_client_connection_timeouts_total") == 1);
  CHECK(MetricSum(*s.client, "db_client_connection_count", "state=\"used\"") == 1);
  { auto release = std::move(held).value(); }
  CHECK(s.client->Get("/api/orders/1")->status == 200);
}

TEST_CASE("connections killed by the server are replaced without failing requests",
          "[integration]") {
  Running s(TestConfig());
  REQUIRE(s.client->Get("/api/orders/1")->status == 200);
  const std::string db = TestDsn().substr(TestDsn().rfind('=') + 1);
  AdminSql(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
      "'shop' AND datname = '" +
      db + "' AND pid <> pg_backend_pid()");
  std::this_thread::sleep_for(milliseconds(100));
  for (int i = 0; i < 4; ++i) CHECK(s.client->Get("/api/orders/2")->status == 200);
  CHECK(MetricSum(*s.client, "db_client_connection_closed_total", "reason=\"broken\"") >= 1);
}

TEST_CASE("readiness turns 503 while draining, health stays 200", "[integration]") {
  Running s(TestConfig());
  CHECK(s.client->Get("/readyz")->status == 200);
  s.server.BeginDrain();
  auto r = s.client->Get("/readyz");
  CHECK(r->status == 503);
  CHECK(Body(r)["error"]["code"] == "draining");
  CHECK(s.client->Get("/healthz")->status == 200);
}

TEST_CASE("readiness is 503 when PostgreSQL is unreachable", "[integration]") {
  ShopConfig config = TestConfig();
  config.pg.dsn = "host=127.0.0.1 port=1 user=postgres dbname=nothing password=hunter2";
  config.pool.min_size = 0;
  std::string log;
  SetLogSink(&log);
  {
    Running s(config);
    auto r = s.client->Get("/readyz");
    CHECK(r->status == 503);
    CHECK(Body(r)["error"]["code"] == "not_ready");
    CHECK(r->body.find("hunter2") == std::string::npos);
    auto p = s.client->Get("/api/orders/1");
    CHECK(p->status == 503);
    CHECK(Body(p)["error"]["code"] == "db_unavailable");
  }
  SetLogSink(nullptr);
  CHECK(log.find("hunter2") == std::string::npos);
}

TEST_CASE("with Redis down the service answers from PostgreSQL, then uses Redis again",
          "[integration]") {
  const std::string script = std::string(VIGIL_SOURCE_DIR) + "/tests/support/servers.sh";
  char tmpl[] = "/tmp/shop-redis-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  auto run = [&](const std::string& cmd) {
    std::string out;
    FILE* f = popen(cmd.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[256];
    while (fgets(buf, sizeof buf, f) != nullptr) out += buf;
    REQUIRE(pclose(f) == 0);
    return out;
  };
  const int port = std::atoi(run(script + " start redis " + dir + "/redis").c_str());
  REQUIRE(port > 0);
  struct Stop {
    std::string cmd;
    ~Stop() { (void)std::system(cmd.c_str()); }
  } stop{script + " stop redis " + dir + "/redis; rm -rf " + dir};

  Running s(TestConfig(port));
  auto& c = *s.client;
  REQUIRE(c.Get("/api/products/40")->status == 200);
  REQUIRE(c.Get("/api/products/40")->status == 200);
  CHECK(MetricSum(c, "cache_requests_total", R"(group="product",result="hit")") == 1);

  run(script + " stop redis " + dir + "/redis");
  for (int i = 0; i < 5; ++i) {
    auto r = c.Get(("/api/products/" + std::to_string(40 + i)).c_str());
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(c.Post("/api/orders", R"({"user_id":3,"items":[{"product_id":41,"quantity":1}]})",
               "application/json")
            ->status == 201);
  CHECK(MetricSum(c, "cache_requests_total", R"(group="product",result="error")") >= 1);
  auto ready = c.Get("/readyz");
  CHECK(ready->status == 200);  // ready depends on PostgreSQL only
  CHECK(Body(ready)["redis"] == "unavailable");

  // Redis comes back on the same port: the cache is used again without a restart.
  run("redis-server --bind 127.0.0.1 --port " + std::to_string(port) +
      " --save '' --appendonly no --daemonize yes --pidfile " + dir + "/redis/pid --logfile " +
      dir + "/redis/redis.log");
  for (int i = 0;
       i < 50 && run("redis-cli -p " + std::to_string(port) + " ping || true").find("PONG") ==
                     std::string::npos;
       ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  std::this_thread::sleep_for(milliseconds(250));  // past the retry interval
  const double hits = MetricSum(c, "cache_requests_total", R"(group="product",result="hit")");
  for (int i = 0; i < 3; ++i) REQUIRE(c.Get("/api/products/40")->status == 200);
  CHECK(MetricSum(c, "cache_requests_total", R"(group="product",result="hit")") >= hits + 1);
}

TEST_CASE("/metrics exposes the request, pool, cache and process series", "[integration]") {
  Running s(TestConfig());
  auto& c = *s.client;
  REQUIRE(c.Get("/api/products/1")->status == 200);
  auto m = c.Get("/metrics");
  REQUIRE(m->status == 200);
  for (const char* name :
       {"http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/products/"
        "{id}\",status=\"200\"",
        "http_requests_in_flight",
        "db_query_duration_seconds_bucket{operation=\"select\",table=\"products\"",
        "db_client_connection_count{pool_name=\"main\",state=\"idle\"}",
        "db_client_connection_count{pool_name=\"main\",state=\"used\"}",
        "db_client_connection_max",
        "db_client_connection_pending_requests",
        "db_client_connection_timeouts_total",
        "db_client_connection_wait_time_seconds_bucket",
        "db_client_connection_use_time_seconds_bucket",
        "db_client_connection_created_total",
        "db_client_connection_closed_total",
        "cache_requests_total{group=\"product\",result=\"hit\"}",
        "cache_operation_duration_seconds_bucket",
        "http_server_worker_threads_busy",
        "http_server_worker_threads_max 16",
        "http_server_queued_connections",
        "process_resident_memory_bytes",
        "process_threads",
        "shop_fault_leaked_bytes 0",
        "shop_fault_leaked_threads 0"}) {
    CAPTURE(name);
    CHECK(m->body.find(name) != std::string::npos);
  }
  CHECK(MetricSum(c, "process_resident_memory_bytes") > 1e6);
  CHECK(MetricSum(c, "process_threads") >= 16);
}

TEST_CASE("the admin fault switch leaks threads and memory until released", "[integration]") {
  Running s(TestConfig());
  auto& c = *s.client;
  const double threads_before = MetricSum(c, "process_threads");
  CHECK(MetricSum(c, "shop_fault_leaked_threads") == 0);

  auto r = c.Post("/api/admin/faults", R"({"leak_threads":5,"leak_mib":4})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  json state = Body(r);
  CHECK(state["leaked_threads"] == 5);
  CHECK(state["leaked_mib"] == 4);
  CHECK(state["error_percent"] == 0);
  CHECK(state["leak_mib_per_minute"] == 0);
  CHECK(state["leak_threads_per_minute"] == 0);
  CHECK(MetricSum(c, "shop_fault_leaked_threads") == 5);
  CHECK(MetricSum(c, "shop_fault_leaked_bytes") == 4.0 * 1024 * 1024);
  CHECK(MetricSum(c, "process_threads") >= threads_before + 5);

  const std::pair<const char*, const char*> bad[] = {
      {R"({"leak_mib":-1})", "leak_mib"},
      {R"({"leak_mib":4097})", "leak_mib"},
      {R"({"leak_threads_per_minute":6001})", "leak_threads_per_minute"},
      {R"({"release_leak":"yes"})", "release_leak"},
      {"{}", "body"},
      {R"({"nope":1})", "nope"},
      {"not json", "body"},
  };
  for (const auto& [body, field] : bad) {
    CAPTURE(body);
    auto e = c.Post("/api/admin/faults", body, "application/json");
    REQUIRE(e);
    CHECK(e->status == 400);
    json err = Body(e);
    CHECK(err["error"]["code"] == "invalid_field");
    CHECK(err["error"]["field"] == field);
  }
  CHECK(MetricSum(c, "shop_fault_leaked_threads") == 5);  // a rejected body changes nothing

  r = c.Post("/api/admin/faults", R"({"leak_threads_per_minute":60,"error_percent":0})",
             "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Body(r)["leak_threads_per_minute"] == 60);

  r = c.Post("/api/admin/faults", R"({"release_leak":true})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  state = Body(r);
  CHECK(state["leaked_threads"] == 0);
  CHECK(state["leaked_mib"] == 0);
  CHECK(state["leak_threads_per_minute"] == 0);
  CHECK(MetricSum(c, "shop_fault_leaked_threads") == 0);
  CHECK(MetricSum(c, "shop_fault_leaked_bytes") == 0);
}

TEST_CASE("fault injection exists only with its flag and takes JSON only", "[integration]") {
  ShopConfig off = TestConfig();
  off.fault_injection = false;  // --enable-admin alone
  {
    Running s(off);
    auto r = s.client->Post("/api/admin/faults", R"({"error_percent":100})", "application/json");
    REQUIRE(r);
    CHECK(r->status == 404);
    auto flush = s.client->Post("/api/admin/cache/flush", "{}", "application/json");
    REQUIRE(flush);
    CHECK(flush->status != 404);
  }
  Running s(TestConfig());
  auto& c = *s.client;
  // What a cross-site form can send, and near misses: refused before the body is read.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonx", ""}) {
    CAPTURE(type);
    for (const char* path : {"/api/admin/faults", "/api/admin/cache/flush"}) {
      CAPTURE(path);
      auto r = c.Post(path, R"({"error_percent":100})", type);
      REQUIRE(r);
      if (std::string(type).rfind("multipart/", 0) == 0) {
        CHECK((r->status == 415 || r->status == 400));  // the server refuses a bad multipart
      } else {                                          // body before any handler runs
        CHECK(r->status == 415);
        CHECK(Body(r)["error"]["code"] == "unsupported_media_type");
      }
    }
  }
  auto ok =
      c.Post("/api/admin/faults", R"({"error_percent":0})", "Application/JSON; charset=utf-8");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(Body(ok)["error_percent"] == 0);  // the refused bodies changed nothing
}

TEST_CASE("with instrumentation off no request metrics are recorded", "[integration]") {
  ShopConfig config = TestConfig();
  config.instrumentation = false;
  Running s(config);
  REQUIRE(s.client->Get("/api/products/1")->status == 200);
  CHECK(MetricSum(*s.client, "shop_instrumentation_enabled") == 0);
  CHECK(MetricSum(*s.client, "http_request_duration_seconds_count") == 0);
  CHECK(MetricSum(*s.client, "cache_requests_total") == 0);
}

TEST_CASE("cache hit ratio stays above 95% under steady load after warm-up", "[integration]") {
  ShopConfig config = TestConfig();
  config.pool.max_size = 6;
  Running s(config);
  LoadOptions o;
  o.port = s.server.port();
  o.scenario = "steady";
  o.rate = 300;
  o.concurrency = 6;
  o.products = kProducts;
  o.users = kUsers;
  o.hot_products = 100;
  o.hot_users = 20;
  o.duration = milliseconds(1500);  // warm-up
  REQUIRE(RunLoad(o, nullptr).ok());
  o.duration = milliseconds(3000);
  auto report = RunLoad(o, nullptr);
  REQUIRE(report.ok());
  const PhaseReport& p = report->phases.at(0);
  INFO(ReportText(*report));
  CHECK(p.requests >= 600);
  CHECK(p.status_5xx == 0);
  CHECK(p.transport_errors == 0);
  CHECK(p.cache_hit_ratio > 0.95);
}

TEST_CASE("the error-burst scenario raises the 5xx ratio only in its burst", "[integration]") {
  Running s(TestConfig());
  LoadOptions o;
  o.port = s.server.port();
  o.products = kProducts;
  o.users = kUsers;
  o.concurrency = 8;
  o.rate = 200;
  o.duration = milliseconds(2400);
  o.scenario = "error-burst";
  auto report = RunLoad(o, nullptr);
  REQUIRE(report.ok());
  INFO(ReportText(*report));
  REQUIRE(report->phases.size() == 3);
  // Requests in flight when the switch flips may land on either side of it (at most one per
  // connection).
  CHECK(report->phases[0].status_5xx <= 8);
  CHECK(report->phases[1].error_ratio() > 0.08);
  CHECK(report->phases[2].status_5xx <= 8);
  CHECK(report->phases[0].error_ratio() < report->phases[1].error_ratio() / 4);
}

TEST_CASE("the pool-exhaustion scenario makes requests wait and time out", "[integration]") {
  ShopConfig config = TestConfig();
  config.pool.max_size = 2;
  config.pool.acquire_timeout = milliseconds(2);  // the small test data makes reports fast
  Running s(config);
  LoadOptions o;
  o.port = s.server.port();
  o.products = kProducts;
  o.users = kUsers;
  o.concurrency = 12;
  o.rate = 0;  // closed loop: every connection hammers the unindexed report
  o.duration = milliseconds(2400);
  o.scenario = "pool-exhaustion";
  const double waits = MetricSum(*s.client, "db_client_connection_wait_time_seconds_count");
  auto report = RunLoad(o, nullptr);
  REQUIRE(report.ok());
  INFO(ReportText(*report));
  CHECK(report->phases[1].pool_timeouts > 0);
  CHECK(report->phases[1].status_5xx > 0);
  CHECK(report->phases[1].pool_pending_max >= 2);
  CHECK(MetricSum(*s.client, "db_client_connection_wait_time_seconds_count") > waits);
}

}  // namespace
}  // namespace vigil::shop
