#include "agent/api/agent_api.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "agent/api/query_api.h"
#include "agent/web/status_page.h"

namespace vigil {
namespace {

using http::Lane;
using http::Request;
using http::Response;
using nlohmann::json;

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

Status CheckNotCrossSite(const http::Request& req) {
  if (const std::string* header = req.Header("content-type")) {
    std::string type = *header;  // media types are case-insensitive
    for (char& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    type.erase(0, type.find_first_not_of(" \t"));
    for (const char* form :
         {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}) {
      if (type.starts_with(form)) {
        return Status::InvalidArgument("refused: a form post can come from another site");
      }
    }
  }
  if (const std::string* fetch_site = req.Header("sec-fetch-site")) {
    if (*fetch_site == "cross-site" || *fetch_site == "same-site") {
      return Status::InvalidArgument("refused: a cross-site request");
    }
  }
  if (const std::string* origin = req.Header("origin")) {
    const std::string* host = req.Header("host");
    std::size_t scheme = origin->find("://");
    std::string origin_host = scheme == std::string::npos ? *origin : origin->substr(scheme + 3);
    if (host == nullptr || origin_host != *host) {
      return Status::InvalidArgument("refused: Origin " + *origin + " is not this host");
    }
  }
  return Status::Ok();
}

std::string CollectorsJson(const std::vector<CollectorState>& states) {
  json list = json::array();
  for (const CollectorState& st : states) {
    std::size_t series = 0;
    if (st.snapshot) {
      for (const MetricFamily& f : *st.snapshot) series += f.samples.size();
    }
    list.push_back({{"collector", st.kind},
                    {"target", st.target},
                    {"up", st.up},
                    {"has_run", st.has_run},
                    {"last_duration_seconds", st.duration_seconds},
                    {"last_error", st.last_error},
                    {"last_run", st.last_run ? FormatRfc3339(st.last_run) : ""},
                    {"last_success", st.last_success ? FormatRfc3339(st.last_success) : ""},
                    {"runs", st.runs},
                    {"failures", st.failures},
                    {"skipped", st.skipped},
                    {"timeouts", st.timeouts},
                    {"series", series}});
  }
  return Dump({{"status", "success"}, {"data", list}});
}

std::string AttachmentsJson(const std::vector<CollectorState>& states, const std::string& kind,
                            const std::string& key) {
  // The attachments are JSON documents already: spliced in, not parsed again.
  std::string body = "{\"status\":\"success\",\"data\":[";
  bool first = true;
  for (const CollectorState& st : states) {
    if (st.kind != kind || !st.attachments) continue;
    auto it = st.attachments->find(key);
    if (it == st.attachments->end()) continue;
    if (!first) body += ',';
    first = false;
    body += "{\"target\":" + Dump(st.target) + ",\"data\":" + it->second + "}";
  }
  body += "]}";
  return body;
}

void RegisterAgentApi(http::Server& s, AgentApiBackend backend) {
  auto b = std::make_shared<const AgentApiBackend>(std::move(backend));
  s.SetFilter([b](const Request& req, Response& res) {
    std::shared_ptr<BasicAuth> auth = b->auth ? b->auth() : nullptr;
    if (!auth) return true;
    const std::string* header = req.Header("authorization");
    BasicAuth::Outcome outcome = auth->Check(header ? *header : "");
    if (outcome == BasicAuth::Outcome::kAccepted) return true;
    if (outcome == BasicAuth::Outcome::kBusy) {
      res.headers.emplace_back("Retry-After", "1");
      res.Set(429, "{\"error\":\"too many login attempts at once; retry\"}", "application/json");
      return false;
    }
    res.headers.emplace_back("WWW-Authenticate", "Basic realm=\"vigil\"");
    res.Set(401, "{\"error\":\"unauthorized\"}", "application/json");
    return false;
  });
  s.Handle("GET", "/metrics", Lane::kFast,
           [b](const Request&, Response& res) { res.Set(200, b->metrics(), kMetricsContentType); });
  s.Handle("GET", "/-/healthy", Lane::kFast, [](const Request&, Response& res) {
    res.Set(200, "vigil is healthy.\n", "text/plain");
  });
  s.Handle("GET", "/-/ready", Lane::kFast, [b](const Request&, Response& res) {
    if (b->ready()) {
      res.Set(200, "vigil is ready.\n", "text/plain");
    } else {
      res.Set(503, "vigil is not ready: the first collections are running.\n", "text/plain");
    }
  });
  auto reload = [b](const Request& req, Response& res) {
    if (!b->enable_lifecycle) {
      res.Set(403, "Lifecycle API is not enabled (start vigil with --web.enable-lifecycle).\n",
              "text/plain");
      return;
    }
    if (Status cross = CheckNotCrossSite(req); !cross.ok()) {
      res.Set(403, cross.message() + "\n", "text/plain");
      return;
    }
    Status st = b->reload();
    if (!st.ok()) {
      res.Set(500, "failed to reload config: " + st.message() + "\n", "text/plain");
    } else {
      res.Set(200, "config reloaded\n", "text/plain");
    }
  };
  // Reload runs on the query lane: it can take seconds and must not hold up /metrics.
  s.Handle("POST", "/-/reload", Lane::kQuery, reload);
  s.Handle("PUT", "/-/reload", Lane::kQuery, reload);
  web::RegisterStatusPage(s);  // "/" and "/static/*": the status page (agent/web)
  auto query = [b](const Request& req, Response& res) {
    ServeInstantQuery(*b->engine, *b->querier, req, b->clock->Now(), res);
  };
  s.Handle("GET", "/api/v1/query", Lane::kQuery, query);
  s.Handle("POST", "/api/v1/query", Lane::kQuery, query);
  auto query_range = [b](const Request& req, Response& res) {
    ServeRangeQuery(*b->engine, *b->querier, req, res);
  };
  s.Handle("GET", "/api/v1/query_range", Lane::kQuery, query_range);
  s.Handle("POST", "/api/v1/query_range", Lane::kQuery, query_range);
  // Every collector instance with its health: what the status page's overview shows.
  s.Handle("GET", "/api/v1/collectors", Lane::kFast, [b](const Request&, Response& res) {
    res.Set(200, CollectorsJson(b->collectors()), "application/json");
  });
  // Rules and alerts wait for an evaluation pass: the query lane, so /metrics never waits.
  s.Handle("GET", "/api/v1/rules", Lane::kQuery, [b](const Request&, Response& res) {
    res.Set(200, b->rules_json(), "application/json");
  });
  s.Handle("GET", "/api/v1/alerts", Lane::kQuery, [b](const Request&, Response& res) {
    res.Set(200, b->alerts_json(), "application/json");
  });
  auto attachment = [b](std::string kind, std::string key) {
    return [b, kind = std::move(kind), key = std::move(key)](const Request&, Response& res) {
      res.Set(200, AttachmentsJson(b->collectors(), kind, key), "application/json");
    };
  };
  s.Handle("GET", "/api/v1/postgres/statements", Lane::kFast, attachment("postgres", "statements"));
  s.Handle("GET", "/api/v1/postgres/blocking", Lane::kFast, attachment("postgres", "blocking"));
  s.Handle("GET", "/api/v1/postgres/horizon", Lane::kFast, attachment("postgres", "horizon"));
}

}  // namespace vigil
