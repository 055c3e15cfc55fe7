#include "agent/app/app.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "agent/api/query_api.h"
#include "agent/base/duration.h"
#include "agent/base/listen_backlog.h"
#include "agent/base/log.h"
#include "agent/core/exposition.h"

namespace vigil {
namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// "127.0.0.1:9633" -> ("127.0.0.1", 9633); "[::1]:9633" -> ("::1", 9633); ":9633" -> all.
std::pair<std::string, int> SplitHostPort(const std::string& address) {
  std::size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  return {host, std::stoi(address.substr(colon + 1))};
}

double NowSeconds() { return static_cast<double>(SystemClock::Get().Now()) / 1000.0; }

}  // namespace

App::App(AppOptions options) : options_(std::move(options)) {
  // Everything collected goes into the window, with the collector's own health series.
  store_.SetListener([this](const CollectorState& st) {
    if (!st.snapshot) return;
    TimestampMs t = st.last_run;
    std::string source = st.kind + "/" + st.target;
    window_.Ingest(source, *st.snapshot, t);
    MetricSink health;
    CollectorSelfMetrics(st, health);
    window_.Ingest("agent:" + source, health.Take(), t);
    MetricSink info;
    {
      std::lock_guard lock(state_mu_);
      AgentInfoMetrics(reload_, info);
    }
    window_.Ingest("agent", info.Take(), t);
  });
}

App::~App() { Stop(); }

Status App::StartScheduler(Config config) {
  if (scheduler_) scheduler_->Stop();
  scheduler_ = std::make_unique<Scheduler>(config.collectors, &store_, &SystemClock::Get());
  scheduler_->Start();
  config_ = std::move(config);
  return Status::Ok();
}

Status App::Start() {
  std::lock_guard lock(reload_mu_);
  Result<Config> config = LoadConfigFile(options_.config_file);
  if (!config.ok()) return config.status();
  std::string listen =
      options_.listen_address.empty() ? config->web.listen_address : options_.listen_address;
  if (Status s = ValidateHostPort(listen); !s.ok()) return s;

  server_ = std::make_unique<httplib::Server>();
  server_->set_tcp_nodelay(true);
  server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  InstallHandlers();
  auto [host, port] = SplitHostPort(listen);
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) return Status::Unavailable("cannot listen on " + listen);
  RaiseListenBacklog(port_);

  StartScheduler(std::move(config.value()));
  {
    std::lock_guard state_lock(state_mu_);
    reload_ = ReloadState{true, NowSeconds()};
  }
  server_thread_ = std::thread([this] { server_->listen_after_bind(); });
  started_ = true;
  LogInfo("vigil started", {{"listen", host + ":" + std::to_string(port_)},
                            {"config", options_.config_file},
                            {"collectors", std::to_string(config_.collectors.size())}});
  return Status::Ok();
}

Status App::Reload() {
  std::lock_guard lock(reload_mu_);
  Result<Config> config = LoadConfigFile(options_.config_file);
  if (!config.ok()) {
    LogError("reload failed; the running config stays", {{"err", config.status().message()}});
    std::lock_guard state_lock(state_mu_);
    reload_.last_successful = false;
    rendered_generation_ = ~0ull;
    return config.status();
  }
  if (config->web.listen_address != config_.web.listen_address && options_.listen_address.empty()) {
    LogWarn("web.listen_address changes take effect at restart",
            {{"running", config_.web.listen_address}, {"new", config->web.listen_address}});
  }
  StartScheduler(std::move(config.value()));
  std::lock_guard state_lock(state_mu_);
  reload_ = ReloadState{true, NowSeconds()};
  rendered_generation_ = ~0ull;
  LogInfo("config reloaded", {{"collectors", std::to_string(config_.collectors.size())}});
  return Status::Ok();
}

void App::Stop() {
  if (server_) server_->stop();
  if (server_thread_.joinable()) server_thread_.join();
  std::lock_guard lock(reload_mu_);
  if (scheduler_) scheduler_->Stop();
  scheduler_.reset();
}

bool App::Ready() const {
  if (!started_) return false;
  for (const CollectorState& s : store_.States()) {
    if (!s.has_run) return false;
  }
  return true;
}

std::string App::Metrics() {
  std::lock_guard lock(state_mu_);
  std::uint64_t generation = store_.generation();
  if (generation == rendered_generation_) return rendered_;
  std::vector<CollectorState> states = store_.States();
  ExpositionBuilder builder;
  builder.Add(AgentSelfMetrics(states, reload_));
  for (const CollectorState& s : states) {
    if (s.snapshot) builder.Add(*s.snapshot);
  }
  rendered_ = builder.Render();
  rendered_generation_ = generation;
  return rendered_;
}

void App::InstallHandlers() {
  httplib::Server& s = *server_;
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(Metrics(), kMetricsContentType);
  });
  s.Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("vigil is healthy.\n", "text/plain");
  });
  s.Get("/-/ready", [this](const httplib::Request&, httplib::Response& res) {
    if (Ready()) {
      res.set_content("vigil is ready.\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("vigil is not ready: the first collections are running.\n", "text/plain");
    }
  });
  auto reload = [this](const httplib::Request&, httplib::Response& res) {
    Status st = Reload();
    if (!st.ok()) {
      res.status = 500;
      res.set_content("failed to reload config: " + st.message() + "\n", "text/plain");
    } else {
      res.set_content("config reloaded\n", "text/plain");
    }
  };
  s.Post("/-/reload", reload);
  s.Put("/-/reload", reload);
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "<html><head><title>vigil</title></head><body><h1>vigil</h1>"
        "<p><a href=\"/metrics\">Metrics</a></p></body></html>",
        "text/html");
  });
  // Documents collectors attach beside their metrics, by kind and name: the top statements
  // with full text, who blocks whom. {"status":"success","data":[{"target":..,"data":..}]}.
  auto attachment = [this](const std::string& kind, const std::string& key) {
    return [this, kind, key](const httplib::Request&, httplib::Response& res) {
      std::string body = "{\"status\":\"success\",\"data\":[";
      bool first = true;
      for (const CollectorState& st : store_.States()) {
        if (st.kind != kind || !st.attachments) continue;
        auto it = st.attachments->find(key);
        if (it == st.attachments->end()) continue;
        if (!first) body += ',';
        first = false;
        body += "{\"target\":" + nlohmann::json(st.target).dump() + ",\"data\":" + it->second + "}";
      }
      body += "]}";
      res.set_content(body, "application/json");
    };
  };
  auto query = [this](const httplib::Request& req, httplib::Response& res) {
    std::string q = req.get_param_value("query");
    std::optional<TimestampMs> t = req.has_param("time")
                                       ? ParseTimeParam(req.get_param_value("time"))
                                       : SystemClock::Get().Now();
    if (!t) {
      res.status = 400;
      res.set_content(ErrorJson("bad_data", "invalid parameter \"time\""), "application/json");
      return;
    }
    Result<promql::Value> v = engine_.InstantQuery(window_, q, *t);
    if (!v.ok()) res.status = v.status().code() == Status::Code::kInvalidArgument ? 400 : 422;
    res.set_content(QueryResponseJson(v), "application/json");
  };
  s.Get("/api/v1/query", query);
  s.Post("/api/v1/query", query);
  auto query_range = [this](const httplib::Request& req, httplib::Response& res) {
    std::optional<TimestampMs> start = ParseTimeParam(req.get_param_value("start"));
    std::optional<TimestampMs> end = ParseTimeParam(req.get_param_value("end"));
    std::optional<std::int64_t> step = ParseStepParam(req.get_param_value("step"));
    if (!start || !end || !step || *end < *start || (*end - *start) / *step > 11000) {
      res.status = 400;
      res.set_content(ErrorJson("bad_data", "invalid start, end or step (at most 11,000 points)"),
                      "application/json");
      return;
    }
    Result<promql::Value> v =
        engine_.RangeQuery(window_, req.get_param_value("query"), *start, *end, *step);
    if (!v.ok()) res.status = v.status().code() == Status::Code::kInvalidArgument ? 400 : 422;
    res.set_content(QueryResponseJson(v), "application/json");
  };
  s.Get("/api/v1/query_range", query_range);
  s.Post("/api/v1/query_range", query_range);
  s.Get("/api/v1/postgres/statements", attachment("postgres", "statements"));
  s.Get("/api/v1/postgres/blocking", attachment("postgres", "blocking"));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("{\"error\":\"internal error\"}", "application/json");
  });
}

}  // namespace vigil
