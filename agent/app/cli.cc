#include "agent/app/cli.h"

#include <httplib.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>

#include "agent/api/query_api.h"
#include "agent/app/app.h"
#include "agent/base/duration.h"
#include "agent/base/file.h"
#include "agent/base/log.h"
#include "agent/core/version.h"
#include "rules/manager.h"
#include "rules/promql/api_json.h"
#include "rules/promql/memory_storage.h"
#include "rules/promql/openmetrics_loader.h"
#include "rules/rule_file.h"
#include "rules/rule_tester.h"

namespace vigil {
namespace {

// `vigil query --data`: an OpenMetrics file of test data.
constexpr std::size_t kMaxQueryDataBytes = std::size_t{256} << 20;

constexpr char kUsage[] = R"(usage: vigil [flags]
       vigil check config FILE...
       vigil check rules FILE...
       vigil test rules FILE...
       vigil query EXPR [--time=T] [--data=FILE | --url=URL]
       vigil --version

vigil collects PostgreSQL, Redis, process and Prometheus-target metrics, evaluates alerting
rules over them and serves everything on /metrics.

Flags:
  --config.file=FILE           configuration file (default vigil.yml)
  --web.listen-address=ADDR    address to serve on (overrides web.listen_address)
  --web.config.file=FILE       TLS and basic auth for every endpoint (exporter-toolkit format)
  --web.enable-lifecycle       allow /-/reload over HTTP (SIGHUP always reloads)
  --web.max-connections=N      most HTTP connections open at once (default 512)
  --web.read-timeout=DURATION  most time to read one request head (default 10s)
  --query.timeout=DURATION     most time one query or rule may run (default 2m)
  --query.max-samples=N        most samples one query or rule may hold (default 1000000)
  --query.max-concurrency=N    queries evaluated at once; more wait, up to 64 (default 2)
  --log.level=LEVEL            debug, info, warn or error (default info)
  --time=T                     (query) evaluation time: Unix seconds or RFC 3339; default now
  --data=FILE                  (query) evaluate offline over an OpenMetrics file with timestamps
  --url=URL                    (query) the running agent to ask (default http://127.0.0.1:9633)
  --help                       show this help
  --version                    show the version
)";

struct Flags {
  std::string config_file = "vigil.yml";
  std::string listen_address;
  std::string web_config_file;
  std::string log_level = "info";
  std::string time, data, url = "http://127.0.0.1:9633";
  std::string web_max_connections = "512", web_read_timeout = "10s";
  std::string query_timeout = "2m", query_max_samples = "1000000", query_max_concurrency = "2";
  bool help = false, version = false, enable_lifecycle = false;
  std::vector<std::string> positional;
};

// Accepts --name=value and --name value.
std::optional<std::string> ParseFlags(const std::vector<std::string>& args, Flags& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--")) {
      flags.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "help" || name == "version" || name == "web.enable-lifecycle") {
      (name == "help"      ? flags.help
       : name == "version" ? flags.version
                           : flags.enable_lifecycle) = true;
      continue;
    }
    std::string* target = name == "config.file"             ? &flags.config_file
                          : name == "web.listen-address"    ? &flags.listen_address
                          : name == "log.level"             ? &flags.log_level
                          : name == "web.config.file"       ? &flags.web_config_file
                          : name == "time"                  ? &flags.time
                          : name == "data"                  ? &flags.data
                          : name == "url"                   ? &flags.url
                          : name == "web.max-connections"   ? &flags.web_max_connections
                          : name == "web.read-timeout"      ? &flags.web_read_timeout
                          : name == "query.timeout"         ? &flags.query_timeout
                          : name == "query.max-samples"     ? &flags.query_max_samples
                          : name == "query.max-concurrency" ? &flags.query_max_concurrency
                                                            : nullptr;
    if (target == nullptr) return "unknown flag --" + name;
    if (!has_value) {
      if (i + 1 >= args.size()) return "flag --" + name + " needs a value";
      value = args[++i];
    }
    *target = value;
  }
  return std::nullopt;
}

// Checks rule files as `promtool check rules` does: "FILE: SUCCESS: N rules found".
int CheckRules(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  int rc = 0;
  for (const std::string& f : files) {
    Result<rules::RuleFileConfig> parsed = rules::LoadRuleFile(f);
    if (!parsed.ok()) {
      err << parsed.status().message() << "\n";
      rc = 1;
      continue;
    }
    std::size_t n = 0;
    for (const auto& g : parsed->groups) n += g.rules.size();
    out << f << ": SUCCESS: " << n << " rules found\n";
  }
  return rc;
}

int CheckConfig(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  if (files.empty()) {
    err << "vigil check config: give at least one FILE\n";
    return 2;
  }
  int rc = 0;
  for (const std::string& f : files) {
    Result<Config> config = LoadConfigFile(f);
    if (!config.ok()) {
      err << config.status().message() << "\n";
      rc = 1;
      continue;
    }
    // The rule files it names must load too (as `promtool check config` checks them).
    rules::RuleManager manager(rules::GroupOptions{});
    if (Status s = manager.Update(config->rule_files); !s.ok()) {
      err << s.message() << "\n";
      rc = 1;
      continue;
    }
    std::size_t n = 0;
    for (const auto& g : manager.groups()) n += g->rules().size();
    out << f << ": SUCCESS (" << config->collectors.size() << " collector instances, " << n
        << " rules)\n";
  }
  return rc;
}

int Query(const Flags& flags, const std::string& expr, std::ostream& out, std::ostream& err) {
  TimestampMs t = SystemClock::Get().Now();
  if (!flags.time.empty()) {
    std::optional<TimestampMs> parsed = ParseTimeParam(flags.time);
    if (!parsed) {
      err << "vigil query: invalid --time \"" << flags.time << "\"\n";
      return 2;
    }
    t = *parsed;
  }
  if (!flags.data.empty()) {
    Result<std::string> data = ReadFileBounded(flags.data, kMaxQueryDataBytes);
    if (!data.ok()) {
      err << "vigil query: cannot read " << flags.data << ": " << data.status().message() << "\n";
      return 1;
    }
    promql::MemoryStorage storage;
    if (Status s = promql::LoadOpenMetrics(*data, &storage); !s.ok()) {
      err << flags.data << ": " << s.message() << "\n";
      return 1;
    }
    const promql::Engine engine;  // the agent's limits: 2 min, 1,000,000 samples
    Result<promql::Value> v = engine.InstantQuery(
        storage, expr, t, promql::QueryContext::WithTimeout(engine.options().timeout));
    out << promql::FormatQueryResult(v) << "\n";
    return v.ok() ? 0 : 1;
  }
  httplib::Client client(flags.url);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  char time_param[32];
  std::snprintf(time_param, sizeof time_param, "%.3f", static_cast<double>(t) / 1000.0);
  httplib::Params params{{"query", expr}, {"time", time_param}};
  auto res = client.Post("/api/v1/query", params);
  if (!res) {
    err << "vigil query: cannot reach " << flags.url << ": " << httplib::to_string(res.error())
        << "\n";
    return 1;
  }
  out << res->body << "\n";
  return res->status == 200 ? 0 : 1;
}

// A whole number in [min, max], or null.
std::optional<std::int64_t> Count(const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < min || n > max) {
    return std::nullopt;
  }
  return n;
}

// The --query.* and --web.* limits into `options`; a message naming the bad flag otherwise.
std::optional<std::string> ServeLimits(const Flags& flags, AppOptions& options) {
  options.enable_lifecycle = flags.enable_lifecycle;
  Result<Duration> timeout = ParseDuration(flags.query_timeout);
  if (!timeout.ok() || timeout->count() <= 0) {
    return "--query.timeout: want a positive duration, got \"" + flags.query_timeout + "\"";
  }
  options.engine.timeout = *timeout;
  std::optional<std::int64_t> samples = Count(flags.query_max_samples, 1, 1'000'000'000);
  if (!samples) return "--query.max-samples: want a number from 1 to 1000000000";
  options.engine.max_samples = *samples;
  std::optional<std::int64_t> concurrency = Count(flags.query_max_concurrency, 1, 64);
  if (!concurrency) return "--query.max-concurrency: want a number from 1 to 64";
  options.web.query_workers = static_cast<std::size_t>(*concurrency);
  std::optional<std::int64_t> connections = Count(flags.web_max_connections, 8, 65536);
  if (!connections) return "--web.max-connections: want a number from 8 to 65536";
  options.web.max_connections = static_cast<std::size_t>(*connections);
  Result<Duration> read = ParseDuration(flags.web_read_timeout);
  if (!read.ok() || read->count() <= 0) {
    return "--web.read-timeout: want a positive duration, got \"" + flags.web_read_timeout + "\"";
  }
  options.web.header_timeout = *read;
  return std::nullopt;
}

int Serve(const Flags& flags, std::ostream& err) {
  // Signals are taken synchronously by this thread; every thread started later inherits the
  // mask, so none of them is interrupted by SIGHUP or SIGTERM.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  AppOptions options{flags.config_file, flags.listen_address, flags.web_config_file};
  if (std::optional<std::string> problem = ServeLimits(flags, options)) {
    err << "vigil: " << *problem << "\n";
    return 2;
  }
  App app(options);
  if (Status s = app.Start(); !s.ok()) {
    err << "vigil: " << s.message() << "\n";
    return 1;
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)app.Reload();  // a failure is logged, and the running config stays
      continue;
    }
    LogInfo("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    app.Stop();
    LogInfo("stopped");
    return 0;
  }
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Flags flags;
  if (auto problem = ParseFlags(args, flags)) {
    err << "vigil: " << *problem << "\n\n" << kUsage;
    return 2;
  }
  if (flags.help) {
    out << kUsage;
    return 0;
  }
  if (flags.version) {
    out << "vigil version " << kVigilVersion << " (revision " << kVigilRevision << ")\n";
    return 0;
  }
  LogLevel level;
  if (!ParseLogLevel(flags.log_level, &level)) {
    err << "vigil: unknown --log.level \"" << flags.log_level
        << "\" (want debug, info, warn or error)\n";
    return 2;
  }
  SetLogLevel(level);
  const auto& pos = flags.positional;
  if (!pos.empty() && pos[0] == "check") {
    if (pos.size() >= 2 && pos[1] == "config") {
      return CheckConfig({pos.begin() + 2, pos.end()}, out, err);
    }
    if (pos.size() >= 3 && pos[1] == "rules")
      return CheckRules({pos.begin() + 2, pos.end()}, out, err);
    err << "vigil: unknown check (want: vigil check config|rules FILE...)\n";
    return 2;
  }
  if (!pos.empty() && pos[0] == "test") {
    if (pos.size() >= 3 && pos[1] == "rules") {
      return rules::RunRuleTests({pos.begin() + 2, pos.end()}, out, err);
    }
    err << "vigil: unknown test (want: vigil test rules FILE...)\n";
    return 2;
  }
  if (!pos.empty() && pos[0] == "query") {
    if (pos.size() != 2) {
      err << "vigil query: give one expression (quote it)\n";
      return 2;
    }
    return Query(flags, pos[1], out, err);
  }
  if (!pos.empty()) {
    err << "vigil: unknown command \"" << pos[0] << "\"\n\n" << kUsage;
    return 2;
  }
  return Serve(flags, err);
}

}  // namespace vigil
