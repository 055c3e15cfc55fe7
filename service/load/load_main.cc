// shop-load: drives a shop server with a named scenario and prints latency quantiles, status
// counts and the shop metrics the scenario moves.
//   shop-load --scenario steady --duration 60s --rate 200 --concurrency 16 [--json]
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>

#include "service/load/load_runner.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: shop-load [--target host:port] [--scenario NAME] [--duration 60s]\n"
               "                 [--rate RPS (0 = closed loop)] [--concurrency N]\n"
               "                 [--products N] [--users N] [--hot-products N] [--hot-users N]\n"
               "                 [--max-requests N] [--seed N] [--no-metrics] [--json] [--quiet]\n"
               "scenarios:\n%s",
               vigil::shop::ScenarioHelp().c_str());
}

bool ParseInt(const std::string& v, std::int64_t* out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return !v.empty() && ec == std::errc() && p == v.data() + v.size() && *out >= 0;
}

// "90", "90s", "2m", "500ms".
bool ParseDuration(const std::string& v, std::chrono::milliseconds* out) {
  std::int64_t n = 0;
  std::size_t digits = 0;
  while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits]))) ++digits;
  if (digits == 0 || !ParseInt(v.substr(0, digits), &n)) return false;
  const std::string unit = v.substr(digits);
  if (unit.empty() || unit == "s") {
    *out = std::chrono::seconds(n);
  } else if (unit == "ms") {
    *out = std::chrono::milliseconds(n);
  } else if (unit == "m") {
    *out = std::chrono::minutes(n);
  } else if (unit == "h") {
    *out = std::chrono::hours(n);
  } else {
    return false;
  }
  return out->count() > 0;
}

}  // namespace

int main(int argc, char** argv) {
  vigil::shop::LoadOptions o;
  bool json = false, quiet = false, duration_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "shop-load: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    std::int64_t n = 0;
    bool ok = true;
    if (a == "--json") {
      json = true;
    } else if (a == "--quiet") {
      quiet = true;
    } else if (a == "--no-metrics") {
      o.scrape_metrics = false;
    } else if (a == "--target") {
      const std::string v = value();
      const std::size_t colon = v.rfind(':');
      ok = colon != std::string::npos && ParseInt(v.substr(colon + 1), &n) && n > 0 && n < 65536;
      if (ok) {
        o.host = v.substr(0, colon);
        o.port = static_cast<int>(n);
      }
    } else if (a == "--scenario") {
      o.scenario = value();
    } else if (a == "--duration") {
      ok = ParseDuration(value(), &o.duration);
      duration_set = true;
    } else if (a == "--rate") {
      const std::string v = value();
      char* end = nullptr;
      o.rate = std::strtod(v.c_str(), &end);
      ok = end == v.c_str() + v.size() && o.rate >= 0;
    } else if (a == "--concurrency") {
      ok = ParseInt(value(), &n) && n >= 1 && n <= 4096;
      o.concurrency = static_cast<int>(n);
    } else if (a == "--products") {
      ok = ParseInt(value(), &o.products) && o.products > 0;
    } else if (a == "--users") {
      ok = ParseInt(value(), &o.users) && o.users > 0;
    } else if (a == "--hot-products") {
      ok = ParseInt(value(), &o.hot_products) && o.hot_products > 0;
    } else if (a == "--hot-users") {
      ok = ParseInt(value(), &o.hot_users) && o.hot_users > 0;
    } else if (a == "--max-requests") {
      ok = ParseInt(value(), &o.max_requests);
    } else if (a == "--seed") {
      ok = ParseInt(value(), &n);
      o.seed = static_cast<std::uint64_t>(n);
    } else if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    } else {
      std::fprintf(stderr, "shop-load: unknown argument %s\n", a.c_str());
      Usage();
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "shop-load: bad value for %s\n", a.c_str());
      return 2;
    }
  }
  if (!duration_set && o.scenario == "soak") o.duration = std::chrono::minutes(30);
  vigil::Result<vigil::shop::LoadReport> report =
      vigil::shop::RunLoad(o, quiet ? nullptr : &std::cerr);
  if (!report.ok()) {
    std::fprintf(stderr, "shop-load: %s\n", report.status().message().c_str());
    return 2;
  }
  std::cout << (json ? vigil::shop::ReportJson(*report) + "\n" : vigil::shop::ReportText(*report));
  return report->total.requests > 0 ? 0 : 1;
}
