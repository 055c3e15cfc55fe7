// App: the running agent. Owns the config, the collection store, the scheduler and the HTTP
// server, and swaps the scheduler on a successful reload (a failed one keeps the old config).
// Thread-safe: Reload() may be called from the signal loop and the /-/reload handler at once.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "agent/api/web_auth.h"
#include "agent/app/rule_evaluator.h"
#include "agent/base/mutex.h"
#include "agent/config/config.h"
#include "agent/core/collection_store.h"
#include "agent/core/scheduler.h"
#include "agent/core/self_metrics.h"
#include "agent/http/server.h"
#include "agent/notifier/notifier.h"
#include "agent/remote/remote_writer.h"
#include "agent/window/series_window.h"
#include "rules/promql/engine.h"

namespace vigil {

struct AppOptions {
  std::string config_file;
  std::string listen_address;     // overrides web.listen_address when set
  std::string web_config_file;    // TLS and basic auth (exporter-toolkit format)
  bool enable_lifecycle = false;  // --web.enable-lifecycle: /-/reload over HTTP
  promql::EngineOptions engine;   // --query.timeout, --query.max-samples
  http::ServerOptions web;        // --web.* limits, --query.max-concurrency (query_workers)
};

class App {
 public:
  explicit App(AppOptions options);
  ~App();

  // Loads the config, binds the listen address, starts collecting and serving.
  Status Start() EXCLUDES(reload_mu_);
  // Re-reads the config file. On error the running config stays and the error is returned.
  Status Reload() EXCLUDES(reload_mu_);
  // Stops serving and collecting (bounded time).
  void Stop() EXCLUDES(reload_mu_);

  // The /metrics body, re-rendered only when something changed since the last call.
  std::string Metrics() EXCLUDES(state_mu_);
  bool Ready() const;
  int port() const { return port_; }
  SeriesWindow& window() { return window_; }

 private:
  // Loads the rules of `config` (all or nothing), then swaps scheduler and notifier.
  Status Apply(Config config) REQUIRES(reload_mu_);
  void EvaluationLoop() EXCLUDES(eval_mu_);
  // vigil's rule engine, notifier, remote write and window series (on /metrics and, once per
  // collection interval, in the window).
  void InternalMetrics(MetricSink& sink) EXCLUDES(notifier_mu_, remote_mu_);
  void SendAlerts(const std::vector<AlertNotification>& alerts) EXCLUDES(notifier_mu_);
  void InstallHandlers();

  AppOptions options_;
  CollectionStore store_;
  SeriesWindow window_{std::chrono::minutes(15)};
  promql::Engine engine_{options_.engine};
  RuleEvaluator rules_{&window_, &engine_};
  // Lock order (docs/development.md, "Threads and locks"): reload_mu_, then state_mu_, then
  // notifier_mu_ or remote_mu_ (never both at once). remote_mu_ is also taken under the
  // window's write lock (its observer), and so after every lock held around a window write
  // (rules_'s, the collection store's listener); eval_mu_ and auth_mu_ nest with none.
  Mutex reload_mu_ ACQUIRED_BEFORE(state_mu_, notifier_mu_, remote_mu_,
                                   auth_mu_);  // serializes Start/Reload/Stop
  Config config_ GUARDED_BY(reload_mu_);
  std::unique_ptr<Scheduler> scheduler_ GUARDED_BY(reload_mu_);
  Mutex state_mu_ ACQUIRED_BEFORE(notifier_mu_, remote_mu_);
  ReloadState reload_ GUARDED_BY(state_mu_);
  std::uint64_t rendered_generation_ GUARDED_BY(state_mu_) =
      ~0ull;  // sum of the parts' generations
  std::string rendered_ GUARDED_BY(state_mu_);
  Mutex notifier_mu_;
  std::unique_ptr<Notifier> notifier_ GUARDED_BY(notifier_mu_);
  Mutex remote_mu_;  // taken under the window's write lock (its observer)
  std::unique_ptr<remote::RemoteWriter> remote_ GUARDED_BY(remote_mu_);
  std::thread eval_thread_;
  Mutex eval_mu_;
  CondVar eval_cv_;
  bool eval_stop_ GUARDED_BY(eval_mu_) = false;
  std::unique_ptr<http::Server> server_;
  Mutex auth_mu_;
  std::shared_ptr<BasicAuth> auth_ GUARDED_BY(auth_mu_);  // null: no basic auth
  int port_ = 0;

  std::atomic<bool> started_{false};
  std::atomic<std::int64_t> internal_interval_ms_{15000};  // how often InternalMetrics is stored
};

}  // namespace vigil
