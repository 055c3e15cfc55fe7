#include "service/shop_config.h"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "agent/base/url.h"

namespace vigil::shop {
namespace {

struct Option {
  const char* name;  // flag without "--"
  const char* env;   // environment variable or nullptr
  const char* help;
  bool is_switch;  // takes no value
  std::function<Status(const std::string& value, ShopConfig* c)> set;
};

Status ParseInt(const std::string& v, std::int64_t min, std::int64_t max, std::int64_t* out) {
  std::int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || x < min || x > max) {
    return Status::InvalidArgument("must be an integer from " + std::to_string(min) + " to " +
                                   std::to_string(max));
  }
  *out = x;
  return Status::Ok();
}

Status ParseDouble(const std::string& v, double min, double* out) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !(x >= min)) {
    return Status::InvalidArgument("must be a number >= " + std::to_string(min));
  }
  *out = x;
  return Status::Ok();
}

// "host:port" or "[v6]:port" (agent/base/url.h), with a host: shop binds and dials named hosts.
Status ParseAddress(const std::string& v, std::string* host, int* port) {
  Result<HostPort> hp = ParseHostPort(v);
  if (!hp.ok()) return hp.status();
  if (hp->host.empty()) return Status::InvalidArgument("invalid address \"" + v + "\": no host");
  *host = hp->host;
  *port = hp->port;
  return Status::Ok();
}

template <typename T>
std::function<Status(const std::string&, ShopConfig*)> IntSetter(std::int64_t min, std::int64_t max,
                                                                 T ShopConfig::*field) {
  return [=](const std::string& v, ShopConfig* c) {
    std::int64_t x = 0;
    Status st = ParseInt(v, min, max, &x);
    if (st.ok()) c->*field = static_cast<T>(x);
    return st;
  };
}

std::function<Status(const std::string&, ShopConfig*)> MillisSetter(
    std::int64_t min, std::int64_t max, std::function<std::chrono::milliseconds*(ShopConfig*)> f) {
  return [=](const std::string& v, ShopConfig* c) {
    std::int64_t x = 0;
    Status st = ParseInt(v, min, max, &x);
    if (st.ok()) *f(c) = std::chrono::milliseconds(x);
    return st;
  };
}

const std::vector<Option>& Options() {
  static const std::vector<Option> kOptions = {
      {"listen", "SHOP_LISTEN", "host:port to serve HTTP on (default 127.0.0.1:8080)", false,
       [](const std::string& v, ShopConfig* c) {
         return ParseAddress(v, &c->listen_host, &c->listen_port);
       }},
      {"pg-dsn", "SHOP_PG_DSN",
       "libpq connection string or URI (default host=127.0.0.1 port=5432 dbname=shop "
       "user=postgres); never logged",
       false,
       [](const std::string& v, ShopConfig* c) {
         if (v.empty()) return Status::InvalidArgument("must not be empty");
         c->pg.dsn = v;
         return Status::Ok();
       }},
      {"redis", "SHOP_REDIS_ADDR", "Redis host:port (default 127.0.0.1:6379)", false,
       [](const std::string& v, ShopConfig* c) {
         return ParseAddress(v, &c->redis.host, &c->redis.port);
       }},
      {"cache-prefix", "SHOP_CACHE_PREFIX",
       "prefix of every Redis key, to share one Redis between deployments (default shop)", false,
       [](const std::string& v, ShopConfig* c) {
         if (v.empty() || v.size() > 64 || v.find_first_of(" \t\r\n") != std::string::npos) {
           return Status::InvalidArgument("must be 1 to 64 characters without spaces");
         }
         c->redis.key_prefix = v;
         return Status::Ok();
       }},
      {"pool-min", "SHOP_POOL_MIN", "connections kept open (default 2)", false,
       [](const std::string& v, ShopConfig* c) {
         std::int64_t x = 0;
         Status st = ParseInt(v, 0, 1000, &x);
         if (st.ok()) c->pool.min_size = static_cast<std::size_t>(x);
         return st;
       }},
      {"pool-max", "SHOP_POOL_MAX", "maximum connections (default 10)", false,
       [](const std::string& v, ShopConfig* c) {
         std::int64_t x = 0;
         Status st = ParseInt(v, 1, 1000, &x);
         if (st.ok()) c->pool.max_size = static_cast<std::size_t>(x);
         return st;
       }},
      {"pool-acquire-timeout-ms", "SHOP_POOL_ACQUIRE_TIMEOUT_MS",
       "wait for a free connection before answering 503 (default 1000)", false,
       MillisSetter(1, 600'000, [](ShopConfig* c) { return &c->pool.acquire_timeout; })},
      {"pool-max-lifetime-ms", "SHOP_POOL_MAX_LIFETIME_MS",
       "close connections older than this (default 1800000)", false,
       MillisSetter(1000, 86'400'000, [](ShopConfig* c) { return &c->pool.max_lifetime; })},
      {"pool-idle-timeout-ms", "SHOP_POOL_IDLE_TIMEOUT_MS",
       "close connections idle longer than this, down to pool-min (default 300000)", false,
       MillisSetter(1000, 86'400'000, [](ShopConfig* c) { return &c->pool.idle_timeout; })},
      {"statement-timeout-ms", "SHOP_STATEMENT_TIMEOUT_MS",
       "PostgreSQL statement_timeout per connection (default 5000)", false,
       [](const std::string& v, ShopConfig* c) {
         std::int64_t x = 0;
         Status st = ParseInt(v, 1, 600'000, &x);
         if (st.ok()) c->pg.statement_timeout_ms = static_cast<int>(x);
         return st;
       }},
      {"workers", "SHOP_WORKERS", "HTTP worker threads (default 32)", false,
       IntSetter(1, 4096, &ShopConfig::worker_threads)},
      {"max-queued", "SHOP_MAX_QUEUED", "accepted connections waiting for a worker (default 512)",
       false, IntSetter(1, 1'000'000, &ShopConfig::max_queued_connections)},
      {"keep-alive-max-requests", "SHOP_KEEP_ALIVE_MAX_REQUESTS",
       "requests served on one connection before it is closed; a kept-alive connection holds "
       "its worker (default 10000)",
       false, IntSetter(1, 1'000'000, &ShopConfig::keep_alive_max_requests)},
      {"rate-limit", "SHOP_RATE_LIMIT",
       "requests per second admitted to /api (token bucket; 0 = off; default 20000)", false,
       [](const std::string& v, ShopConfig* c) { return ParseDouble(v, 0, &c->rate_limit_rps); }},
      {"rate-burst", "SHOP_RATE_BURST", "token bucket size (default 2000)", false,
       [](const std::string& v, ShopConfig* c) { return ParseDouble(v, 1, &c->rate_limit_burst); }},
      {"max-body-bytes", "SHOP_MAX_BODY_BYTES", "larger request bodies get 413 (default 65536)",
       false, IntSetter(1, 64 << 20, &ShopConfig::max_body_bytes)},
      {"compress-min-bytes", "SHOP_COMPRESS_MIN_BYTES",
       "responses at least this large are compressed when the client accepts gzip (default "
       "1024)",
       false, IntSetter(0, 1 << 30, &ShopConfig::compress_min_bytes)},
      {"drain-timeout-ms", "SHOP_DRAIN_TIMEOUT_MS",
       "after SIGTERM, report not-ready this long before closing (default 3000)", false,
       MillisSetter(0, 600'000, [](ShopConfig* c) { return &c->drain_timeout; })},
      {"no-instrumentation", nullptr, "record no request, query, pool or cache metrics", true,
       [](const std::string&, ShopConfig* c) {
         c->instrumentation = false;
         return Status::Ok();
       }},
      {"enable-admin", "SHOP_ENABLE_ADMIN",
       "serve POST /api/admin/cache/flush for the load scenarios", true,
       [](const std::string&, ShopConfig* c) {
         c->admin_endpoints = true;
         return Status::Ok();
       }},
      {"enable-fault-injection", "SHOP_ENABLE_FAULT_INJECTION",
       "serve POST /api/admin/faults (injected 500s, memory and thread leaks) for the demo's "
       "drills; never in production",
       true,
       [](const std::string&, ShopConfig* c) {
         c->fault_injection = true;
         return Status::Ok();
       }},
  };
  return kOptions;
}

std::string Usage() {
  std::ostringstream out;
  out << "shop serve [flags]\n";
  for (const Option& o : Options()) {
    out << "  --" << o.name << (o.is_switch ? "" : "=VALUE");
    if (o.env != nullptr) out << "  (env " << o.env << ")";
    out << "\n      " << o.help << "\n";
  }
  return out.str();
}

}  // namespace

ShopConfig::ShopConfig() { pg.dsn = "host=127.0.0.1 port=5432 dbname=shop user=postgres"; }

std::string ShopConfig::Describe() const {
  std::ostringstream out;
  out << "listen=" << listen_host << ":" << listen_port << " redis=" << redis.host << ":"
      << redis.port << " pool_min=" << pool.min_size << " pool_max=" << pool.max_size
      << " acquire_timeout_ms=" << pool.acquire_timeout.count() << " workers=" << worker_threads
      << " rate_limit=" << rate_limit_rps << " instrumentation=" << (instrumentation ? 1 : 0)
      << " admin=" << (admin_endpoints ? 1 : 0) << " fault_injection=" << (fault_injection ? 1 : 0);
  return out.str();
}

Status ParseShopFlags(const std::vector<std::string>& args, ShopConfig* config) {
  for (const Option& o : Options()) {
    if (o.env == nullptr) continue;
    const char* v = std::getenv(o.env);
    if (v == nullptr) continue;
    if (o.is_switch) {
      const std::string s = v;
      if (s == "1" || s == "true") (void)o.set("", config);
      continue;
    }
    Status st = o.set(v, config);
    if (!st.ok()) return Status::InvalidArgument(std::string(o.env) + ": " + st.message());
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") return Status::NotFound(Usage());
    if (arg.rfind("--", 0) != 0) return Status::InvalidArgument("unexpected argument " + arg);
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Option* found = nullptr;
    for (const Option& o : Options()) {
      if (name == o.name) found = &o;
    }
    if (found == nullptr) return Status::InvalidArgument("unknown flag --" + name);
    if (!found->is_switch && !has_value) {
      if (i + 1 >= args.size()) return Status::InvalidArgument("--" + name + " needs a value");
      value = args[++i];
    }
    Status st = found->set(value, config);
    if (!st.ok()) return Status::InvalidArgument("--" + name + ": " + st.message());
  }
  if (config->pool.min_size > config->pool.max_size) {
    return Status::InvalidArgument("--pool-min must not exceed --pool-max");
  }
  return Status::Ok();
}

}  // namespace vigil::shop
