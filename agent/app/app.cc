#include "agent/app/app.h"

#include <set>

#include "agent/api/agent_api.h"
#include "agent/base/duration.h"
#include "agent/base/log.h"
#include "agent/base/mutex.h"
#include "agent/base/thread_name.h"
#include "agent/base/url.h"
#include "agent/core/exposition.h"

namespace vigil {
namespace {

// How long remote write may keep sending what it holds when it is replaced or stopped.
constexpr Duration kRemoteFlushOnReload{2000};
constexpr Duration kRemoteFlushOnStop{5000};

double NowSeconds() { return static_cast<double>(SystemClock::Get().Now()) / 1000.0; }

}  // namespace

App::App(AppOptions options) : options_(std::move(options)) {
  // Everything the window stores (collections, rule results) also goes to remote write.
  window_.SetObserver([this](const std::vector<ObservedSample>& samples) {
    MutexLock lock(remote_mu_);
    if (!remote_) return;
    std::vector<remote::WriterSample> out;
    out.reserve(samples.size());
    for (const ObservedSample& s : samples) out.push_back({s.labels, s.t, s.v});
    remote_->Append(out);
  });
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
      MutexLock lock(state_mu_);
      AgentInfoMetrics(reload_, info);
    }
    window_.Ingest("agent", info.Take(), t);
  });
}

App::~App() { Stop(); }

Status App::Apply(Config config) {
  RuleSettings rules;
  rules.files = config.rule_files;
  rules.evaluation_interval = config.global.evaluation_interval;
  rules.resend_delay = config.alerting.resend_delay;
  rules.external_labels = config.global.external_labels;
  rules.external_url = config.web.external_url;
  rules.max_retention = config.global.max_window;
  if (!config.storage.path.empty()) rules.state_file = config.storage.path + "/alert-state.json";
  rules.outage_tolerance = config.storage.outage_tolerance;
  internal_interval_ms_ = config.global.collect_interval.count();
  if (Status s = rules_.Load(rules); !s.ok()) return s;
  // Subqueries without a step step by the global evaluation_interval, as in Prometheus.
  engine_.set_subquery_step_ms(config.global.evaluation_interval.count());
  window_.SetLimits({config.global.max_series, config.global.max_series_per_source});
  {
    MutexLock lock(notifier_mu_);
    bool same = notifier_ && config_.alerting.alertmanagers == config.alerting.alertmanagers &&
                config_.global.external_labels == config.global.external_labels &&
                config_.alerting.queue_capacity == config.alerting.queue_capacity;
    if (!same) {
      if (notifier_) notifier_->Stop();
      notifier_.reset();
      if (!config.alerting.alertmanagers.empty()) {
        NotifierOptions options;
        options.queue_capacity = config.alerting.queue_capacity;
        notifier_ = std::make_unique<Notifier>(config.alerting.alertmanagers,
                                               config.global.external_labels, options);
      }
    }
  }
  if (config_.remote_write != config.remote_write ||
      config_.global.external_labels != config.global.external_labels) {
    std::unique_ptr<remote::RemoteWriter> fresh;
    if (!config.remote_write.empty()) {
      fresh = std::make_unique<remote::RemoteWriter>(config.remote_write,
                                                     config.global.external_labels);
    }
    {
      MutexLock lock(remote_mu_);
      std::swap(fresh, remote_);
    }
    if (fresh) fresh->Stop(kRemoteFlushOnReload);  // the old writer: what it holds is sent
  }
  if (scheduler_) scheduler_->Stop();
  // Sources the new config no longer has: their series end now (stale markers) and leave the
  // window after retention, instead of answering queries for the whole lookback.
  std::set<std::string> kept;
  for (const collectors::CollectorSpec& spec : config.collectors)
    kept.insert(spec.kind + "/" + spec.target);
  TimestampMs now = SystemClock::Get().Now();
  for (const collectors::CollectorSpec& spec : config_.collectors) {
    std::string source = spec.kind + "/" + spec.target;
    if (kept.count(source)) continue;
    window_.DropSource(source, now);
    window_.DropSource("agent:" + source, now);
  }
  scheduler_ = std::make_unique<Scheduler>(config.collectors, &store_, &SystemClock::Get());
  scheduler_->Start();
  config_ = std::move(config);
  return Status::Ok();
}

void App::SendAlerts(const std::vector<AlertNotification>& alerts) {
  MutexLock lock(notifier_mu_);
  if (notifier_) notifier_->Send(alerts);
}

void App::EvaluationLoop() {
  MutexLock lock(eval_mu_);
  // Rules wait for the first collections: evaluated over an empty window they would miss
  // every alert (and drop the alerts restored from the state file).
  while (!eval_stop_ && !Ready()) {
    eval_cv_.WaitFor(lock, std::chrono::milliseconds(20),
                     [&]() REQUIRES(eval_mu_) { return eval_stop_; });
  }
  rules_.SetNotBefore(SystemClock::Get().Now());
  TimestampMs next_internal_ingest = 0;
  while (!eval_stop_) {
    lock.Unlock();
    TimestampMs now = SystemClock::Get().Now();
    rules_.EvalDue(now, [this](std::vector<AlertNotification> a) { SendAlerts(a); });
    // The rule engine's, notifier's and window's own series go into the window too (the
    // shipped vigil.yml alerts read them), once per collection interval.
    if (now >= next_internal_ingest) {
      MetricSink internal;
      InternalMetrics(internal);
      window_.Ingest("agent:internal", internal.Take(), now);
      next_internal_ingest = now + internal_interval_ms_.load();
    }
    TimestampMs wait =
        std::clamp<TimestampMs>(rules_.NextDue(now) - SystemClock::Get().Now(), 10, 1000);
    lock.Lock();
    eval_cv_.WaitFor(lock, std::chrono::milliseconds(wait),
                     [&]() REQUIRES(eval_mu_) { return eval_stop_; });
  }
}

Status App::Start() {
  MutexLock lock(reload_mu_);
  Result<Config> config = LoadConfigFile(options_.config_file);
  if (!config.ok()) return config.status();
  std::string listen =
      options_.listen_address.empty() ? config->web.listen_address : options_.listen_address;
  Result<HostPort> address = ParseHostPort(listen);
  if (!address.ok()) return address.status();

  WebAuthConfig web;
  if (!options_.web_config_file.empty()) {
    Result<WebAuthConfig> loaded = LoadWebAuthConfig(options_.web_config_file);
    if (!loaded.ok()) return loaded.status();
    web = std::move(loaded.value());
  }
  http::ServerOptions server_options = options_.web;
  server_options.cert_file = web.cert_file;
  server_options.key_file = web.key_file;
  server_ = std::make_unique<http::Server>(server_options);
  if (!web.users.empty()) {
    MutexLock auth_lock(auth_mu_);
    auth_ = std::make_shared<BasicAuth>(web.users);
  }
  InstallHandlers();
  std::string host = address->host.empty() ? "0.0.0.0" : address->host;
  int port = address->port;
  if (Status s = server_->Listen(host, port); !s.ok()) {
    return s.code() == Status::Code::kInvalidArgument ? s.WithContext(options_.web_config_file) : s;
  }
  port_ = server_->port();

  if (Status s = Apply(std::move(config.value())); !s.ok()) return s;
  {
    MutexLock state_lock(state_mu_);
    reload_ = ReloadState{true, NowSeconds()};
  }
  server_->Start();
  eval_thread_ = std::thread([this] {
    SetCurrentThreadName("vigil-eval");
    EvaluationLoop();
  });
  started_ = true;
  LogInfo("vigil started", {{"listen", host + ":" + std::to_string(port_)},
                            {"config", options_.config_file},
                            {"collectors", std::to_string(config_.collectors.size())}});
  return Status::Ok();
}

Status App::Reload() {
  MutexLock lock(reload_mu_);
  Result<Config> config = LoadConfigFile(options_.config_file);
  Status status = config.ok() ? Status::Ok() : config.status();
  if (config.ok() && config->web.listen_address != config_.web.listen_address &&
      options_.listen_address.empty()) {
    LogWarn("web.listen_address changes take effect at restart",
            {{"running", config_.web.listen_address}, {"new", config->web.listen_address}});
  }
  if (status.ok()) status = Apply(std::move(config.value()));
  if (status.ok() && !options_.web_config_file.empty()) {
    // Users can change on reload; TLS certificates take effect at restart.
    Result<WebAuthConfig> web = LoadWebAuthConfig(options_.web_config_file);
    if (web.ok()) {
      MutexLock auth_lock(auth_mu_);
      auth_ = web->users.empty() ? nullptr : std::make_shared<BasicAuth>(web->users);
    } else {
      status = web.status();
    }
  }
  if (!status.ok()) {
    LogError("reload failed; the running config stays", {{"err", status.message()}});
    MutexLock state_lock(state_mu_);
    reload_.last_successful = false;
    rendered_generation_ = ~0ull;
    return status;
  }
  MutexLock state_lock(state_mu_);
  reload_ = ReloadState{true, NowSeconds()};
  rendered_generation_ = ~0ull;
  LogInfo("config reloaded", {{"collectors", std::to_string(config_.collectors.size())}});
  return Status::Ok();
}

void App::Stop() {
  if (server_) server_->Stop();
  {
    MutexLock lock(eval_mu_);
    eval_stop_ = true;
  }
  eval_cv_.NotifyAll();
  if (eval_thread_.joinable()) eval_thread_.join();
  rules_.Stop();  // the groups in flight finish and send their alerts
  if (started_) rules_.SaveState(SystemClock::Get().Now());
  {
    MutexLock lock(notifier_mu_);
    if (notifier_) notifier_->Stop();
  }
  MutexLock lock(reload_mu_);
  if (scheduler_) scheduler_->Stop();
  scheduler_.reset();
  std::unique_ptr<remote::RemoteWriter> writer;
  {
    MutexLock remote_lock(remote_mu_);
    writer = std::move(remote_);
  }
  if (writer) writer->Stop(kRemoteFlushOnStop);
}

bool App::Ready() const {
  if (!started_) return false;
  for (const CollectorState& s : store_.States()) {
    if (!s.has_run) return false;
  }
  return true;
}

void App::InternalMetrics(MetricSink& agent) {
  rules_.Collect(agent);
  {
    MutexLock notifier_lock(notifier_mu_);
    if (notifier_) notifier_->Collect(agent);
  }
  {
    MutexLock remote_lock(remote_mu_);
    if (remote_) remote_->Collect(agent);
  }
  if (server_) {
    http::ServerStats web = server_->Stats();
    agent.Gauge("vigil_http_connections", "HTTP connections open.", {},
                static_cast<double>(web.connections_open));
    agent.Counter("vigil_http_connections_accepted_total", "HTTP connections accepted.", {},
                  static_cast<double>(web.connections_accepted));
    agent.Counter("vigil_http_requests_total", "HTTP requests read completely.", {},
                  static_cast<double>(web.requests));
    for (const auto& [reason, n] : web.rejected) {
      agent.Counter("vigil_http_rejected_total",
                    "HTTP requests and connections refused or closed by a limit, by reason.",
                    {{"reason", reason}}, static_cast<double>(n));
    }
  }
  WindowStats window = window_.Stats();
  agent.Gauge("vigil_window_series", "Series held in the window.", {},
              static_cast<double>(window.series));
  agent.Gauge("vigil_window_samples", "Samples held in the window.", {},
              static_cast<double>(window.samples));
  agent.Gauge("vigil_window_bytes", "Memory of the window's compressed chunks.", {},
              static_cast<double>(window.bytes));
  agent.Gauge("vigil_window_retention_seconds",
              "How far back the window keeps samples (the rules' needs, capped by max_window).", {},
              static_cast<double>(window_.retention().count()) / 1000.0);
  WindowLimits limits = window_.limits();
  agent.Gauge("vigil_window_series_limit", "Most series the window holds (global.max_series).", {},
              static_cast<double>(limits.max_series));
  agent.Gauge("vigil_window_series_per_source_limit",
              "Most series one source may have in a collection (global.max_series_per_source).", {},
              static_cast<double>(limits.max_series_per_source));
  for (const auto& [source, n] : window_.Refused()) {
    agent.Counter("vigil_window_series_refused_total",
                  "New series the window refused because a series cap was reached.",
                  {{"source", source}}, static_cast<double>(n));
  }
}

std::string App::Metrics() {
  MutexLock lock(state_mu_);
  std::uint64_t generation = store_.generation() + rules_.generation();
  {
    MutexLock notifier_lock(notifier_mu_);
    if (notifier_) generation += notifier_->generation();
  }
  {
    MutexLock remote_lock(remote_mu_);
    if (remote_) generation += remote_->generation();
  }
  if (generation == rendered_generation_) return rendered_;
  std::vector<CollectorState> states = store_.States();
  ExpositionBuilder builder;
  builder.Add(AgentSelfMetrics(states, reload_));
  MetricSink agent;
  InternalMetrics(agent);
  builder.Add(agent.Take());
  for (const CollectorState& s : states) {
    if (s.snapshot) builder.Add(*s.snapshot);
  }
  rendered_ = builder.Render();
  rendered_generation_ = generation;
  return rendered_;
}

void App::InstallHandlers() {
  AgentApiBackend api;
  api.metrics = [this] { return Metrics(); };
  api.ready = [this] { return Ready(); };
  api.reload = [this] { return Reload(); };
  api.enable_lifecycle = options_.enable_lifecycle;
  api.collectors = [this] { return store_.States(); };
  api.rules_json = [this] { return rules_.RulesJson(); };
  api.alerts_json = [this] { return rules_.AlertsJson(); };
  api.auth = [this] {
    MutexLock lock(auth_mu_);
    return auth_;
  };
  api.engine = &engine_;
  api.querier = &window_;
  RegisterAgentApi(*server_, std::move(api));
}

}  // namespace vigil
