// shop: the reference service vigil monitors.
//   shop serve [flags]     serve the API (migrates the schema first)
//   shop migrate [flags]   apply schema migrations and exit
//   shop seed [--products N] [--users N] [--orders N] [--seed S] [flags]
// Flags and SHOP_* environment variables: `shop serve --help`.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "agent/base/log.h"
#include "service/pg_connection.h"
#include "service/schema.h"
#include "service/shop_config.h"
#include "service/shop_server.h"

namespace vigil::shop {
namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: shop serve|migrate|seed [flags]\n"
               "  seed flags: --products N --users N --orders N --seed S (defaults 100000, "
               "10000, 200000, 42)\n"
               "  shop serve --help lists the server flags\n");
  return 2;
}

Result<std::unique_ptr<PgConnection>> ConnectAndMigrate(const ShopConfig& config) {
  PgConnectOptions pg = config.pg;
  pg.statement_timeout_ms = 0 + 10 * 60 * 1000;  // seeding and index builds take a while
  Result<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(pg, nullptr);
  if (!conn.ok()) return conn.status();
  Status st = Migrate(**conn);
  if (!st.ok()) return st;
  return conn;
}

int Serve(const ShopConfig& config) {
  // Block the shutdown signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  {
    Result<std::unique_ptr<PgConnection>> conn = ConnectAndMigrate(config);
    if (!conn.ok()) {
      LogWarn("schema migration skipped: postgres unreachable", {{"err", conn.status().message()}});
    }
  }
  ShopServer server(config);
  Status st = server.Start();
  if (!st.ok()) {
    LogError("start failed", {{"err", st.message()}});
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  LogInfo("signal received; draining",
          {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
           {"drain_ms", std::to_string(config.drain_timeout.count())}});
  server.BeginDrain();
  std::this_thread::sleep_for(config.drain_timeout);
  server.Stop();
  LogInfo("shop stopped");
  return 0;
}

int SeedCommand(std::vector<std::string> args) {
  SeedOptions options;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::int64_t* target = nullptr;
    std::int64_t seed = 0;
    if (args[i] == "--products") target = &options.products;
    if (args[i] == "--users") target = &options.users;
    if (args[i] == "--orders") target = &options.orders;
    if (args[i] == "--seed") target = &seed;
    if (target == nullptr) {
      rest.push_back(args[i]);
      continue;
    }
    if (i + 1 >= args.size()) return Usage();
    const std::string& v = args[++i];
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *target);
    if (ec != std::errc() || p != v.data() + v.size() || *target < 0) {
      std::fprintf(stderr, "shop seed: %s needs a non-negative integer\n", args[i - 1].c_str());
      return 2;
    }
    if (target == &seed) options.seed = static_cast<std::uint64_t>(seed);
  }
  ShopConfig config;
  Status st = ParseShopFlags(rest, &config);
  if (!st.ok()) {
    std::fprintf(stderr, "shop seed: %s\n", st.message().c_str());
    return 2;
  }
  Result<std::unique_ptr<PgConnection>> conn = ConnectAndMigrate(config);
  if (!conn.ok()) {
    LogError("seed failed", {{"err", conn.status().message()}});
    return 1;
  }
  Result<SeedReport> report = Seed(**conn, options);
  if (!report.ok()) {
    LogError("seed failed", {{"err", report.status().message()}});
    return 1;
  }
  LogInfo("seeded", {{"products", std::to_string(report->products)},
                     {"users", std::to_string(report->users)},
                     {"orders", std::to_string(report->orders)},
                     {"order_items", std::to_string(report->order_items)},
                     {"seconds", std::to_string(report->seconds)}});
  return 0;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "seed") return SeedCommand(args);
  ShopConfig config;
  Status st = ParseShopFlags(args, &config);
  if (st.code() == Status::Code::kNotFound) {
    std::fputs(st.message().c_str(), stdout);
    return 0;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "shop: %s\n", st.message().c_str());
    return 2;
  }
  if (command == "serve") return Serve(config);
  if (command == "migrate") {
    Result<std::unique_ptr<PgConnection>> conn = ConnectAndMigrate(config);
    if (!conn.ok()) {
      LogError("migrate failed", {{"err", conn.status().message()}});
      return 1;
    }
    LogInfo("schema up to date");
    return 0;
  }
  return Usage();
}

}  // namespace
}  // namespace vigil::shop

int main(int argc, char** argv) { return vigil::shop::Main(argc, argv); }
