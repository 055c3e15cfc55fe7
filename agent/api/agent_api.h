// The agent's HTTP API: every route vigil serves, on its lane, behind the basic-auth filter:
// /metrics, /-/healthy, /-/ready, /-/reload (lifecycle, with the cross-site guard),
// /api/v1/query and query_range (agent/api/query_api.h), /api/v1/collectors, /api/v1/rules,
// /api/v1/alerts, /api/v1/postgres/{statements,blocking,horizon} (documents collectors attach) and
// the status page (agent/web). The routes hold no state: the running agent supplies what they read
// through AgentApiBackend. Handlers run on the server's worker threads, so the backend's functions
// must be thread-safe; RegisterAgentApi itself is called once, before the server starts.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/api/web_auth.h"
#include "agent/base/clock.h"
#include "agent/base/status.h"
#include "agent/core/collection_store.h"
#include "agent/http/server.h"
#include "rules/promql/engine.h"
#include "rules/promql/querier.h"

namespace vigil {

struct AgentApiBackend {
  std::function<std::string()> metrics;  // the /metrics body
  std::function<bool()> ready;           // /-/ready: every collector has run once
  std::function<Status()> reload;        // /-/reload, when enable_lifecycle
  bool enable_lifecycle = false;         // --web.enable-lifecycle
  std::function<std::vector<CollectorState>()> collectors;
  std::function<std::string()> rules_json;           // Prometheus's /api/v1/rules body
  std::function<std::string()> alerts_json;          // Prometheus's /api/v1/alerts body
  std::function<std::shared_ptr<BasicAuth>()> auth;  // null: no basic auth (read per request)
  const promql::Engine* engine = nullptr;            // REQUIRES: outlive the server
  const promql::Querier* querier = nullptr;
  const Clock* clock = &SystemClock::Get();
};

void RegisterAgentApi(http::Server& server, AgentApiBackend backend);

// Mutating endpoints refuse what a browser sends cross-site: a form post (its content types
// are the only ones a page may send without a preflight) or any request whose Origin is not
// this host. curl, promtool and scripts send neither.
Status CheckNotCrossSite(const http::Request& req);
// GET /api/v1/collectors: every collector instance with its health.
std::string CollectorsJson(const std::vector<CollectorState>& states);
// The documents collectors of `kind` attached under `key` (top statements, who blocks whom):
// {"status":"success","data":[{"target":..,"data":..}]}.
std::string AttachmentsJson(const std::vector<CollectorState>& states, const std::string& kind,
                            const std::string& key);

}  // namespace vigil
