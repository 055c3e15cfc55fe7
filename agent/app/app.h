// App: the running agent. Owns the config, the collection store, the scheduler and the HTTP
// server, and swaps the scheduler on a successful reload (a failed one keeps the old config).
// Thread-safe: Reload() may be called from the signal loop and the /-/reload handler at once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "agent/app/rule_evaluator.h"
#include "agent/app/web_auth.h"
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
  Status Start();
  // Re-reads the config file. On error the running config stays and the error is returned.
  Status Reload();
  // Stops serving and collecting (bounded time).
  void Stop();

  // The /metrics body, re-rendered only when something changed since the last call.
  std::string Metrics();
  bool Ready() const;
  int port() const { return port_; }
  SeriesWindow& window() { return window_; }

 private:
  // Loads the rules of `config` (all or nothing), then swaps scheduler and notifier.
  Status Apply(Config config);
  void EvaluationLoop();
  // vigil's rule engine, notifier, remote write and window series (on /metrics and, once per
  // collection interval, in the window).
  void InternalMetrics(MetricSink& sink);
  void SendAlerts(std::vector<rules::AlertNotification> alerts);
  void InstallHandlers();

  AppOptions options_;
  CollectionStore store_;
  SeriesWindow window_{std::chrono::minutes(15)};
  promql::Engine engine_{options_.engine};
  RuleEvaluator rules_{&window_, &engine_};
  std::mutex notifier_mu_;
  std::unique_ptr<Notifier> notifier_;            // GUARDED_BY(notifier_mu_)
  std::string external_url_;                      // GUARDED_BY(notifier_mu_)
  std::mutex remote_mu_;                          // taken under the window's lock (its observer)
  std::unique_ptr<remote::RemoteWriter> remote_;  // GUARDED_BY(remote_mu_)
  std::thread eval_thread_;
  std::mutex eval_mu_;
  std::condition_variable eval_cv_;
  bool eval_stop_ = false;                // GUARDED_BY(eval_mu_)
  std::mutex reload_mu_;                  // serializes Start/Reload/Stop
  Config config_;                         // GUARDED_BY(reload_mu_)
  std::unique_ptr<Scheduler> scheduler_;  // GUARDED_BY(reload_mu_)
  std::unique_ptr<http::Server> server_;
  std::mutex auth_mu_;
  std::shared_ptr<BasicAuth> auth_;  // null: no basic auth; GUARDED_BY(auth_mu_)
  int port_ = 0;

  std::mutex state_mu_;
  ReloadState reload_;  // GUARDED_BY(state_mu_)
  std::uint64_t rendered_generation_ =
      ~0ull;              // sum of the parts' generations; GUARDED_BY(state_mu_)
  std::string rendered_;  // GUARDED_BY(state_mu_)
  std::atomic<bool> started_{false};
  std::atomic<std::int64_t> internal_interval_ms_{15000};  // how often InternalMetrics is stored
};

}  // namespace vigil
