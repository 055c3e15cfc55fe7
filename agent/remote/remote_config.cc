#include "agent/remote/remote_config.h"

#include <set>

#include "agent/base/config_node.h"
#include "agent/base/url.h"

namespace vigil::remote {

bool RemoteWriteConfig::operator==(const RemoteWriteConfig& o) const {
  auto rules_equal = [](const std::vector<RelabelRule>& a, const std::vector<RelabelRule>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].source_labels != b[i].source_labels || a[i].separator != b[i].separator ||
          a[i].regex != b[i].regex || a[i].target_label != b[i].target_label ||
          a[i].replacement != b[i].replacement || a[i].action != b[i].action) {
        return false;
      }
    }
    return true;
  };
  return url == o.url && name == o.name && timeout == o.timeout &&
         basic_auth_username == o.basic_auth_username &&
         basic_auth_password == o.basic_auth_password && bearer_token == o.bearer_token &&
         tls == o.tls && rules_equal(write_relabel_configs, o.write_relabel_configs) &&
         queue == o.queue;
}

Result<ParsedUrl> ParseRemoteUrl(const std::string& url) {
  ParsedUrl u;
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("want http:// or https://");
  u.scheme = url.substr(0, scheme_end);
  if (u.scheme != "http" && u.scheme != "https") {
    return Status::InvalidArgument("scheme must be http or https");
  }
  std::string rest = url.substr(scheme_end + 3);
  std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (UrlHasUserinfo(url)) {
    return Status::InvalidArgument("credentials in the URL are not allowed (use basic_auth)");
  }
  if (authority.empty()) return Status::InvalidArgument("missing host");
  Result<HostPort> hp = ParseAuthority(authority, u.scheme == "https" ? 443 : 80);
  if (!hp.ok()) return hp.status();
  u.host = hp->host;
  u.port = hp->port;
  return u;
}

namespace {

RelabelRule ParseRelabelRule(const ConfigNode& n) {
  RelabelRule r;
  std::string action = n.String("action", "replace");
  if (std::optional<RelabelAction> a = ParseRelabelAction(action)) {
    r.action = *a;
  } else {
    n.Child("action")->Error("unsupported action \"" + action +
                             "\" (want replace, keep, drop, labeldrop or labelkeep)");
  }
  r.source_labels = n.StringList("source_labels");
  r.separator = n.String("separator", ";");
  if (n.Has("regex")) r.regex = n.Regex("regex");
  r.target_label = n.String("target_label");
  r.replacement = n.String("replacement", "$1");
  Result<RelabelConfig> made = RelabelConfig::Make(r);
  if (!made.ok()) n.Error(made.status().message());
  n.CheckUnknownKeys();
  return r;
}

void CheckPositive(const ConfigNode& n, std::string_view key, Duration d) {
  if (d.count() <= 0) n.Child(key)->Error("must be positive");
}

}  // namespace

RemoteWriteConfig ParseRemoteWriteEntry(const ConfigNode& entry) {
  RemoteWriteConfig c;
  c.url = entry.RequiredString("url");
  Result<ParsedUrl> url = ParseRemoteUrl(c.url);
  if (!c.url.empty() && !url.ok()) entry.Child("url")->Error(url.status().message());
  c.name = entry.String("name");
  if (c.name.empty() && url.ok()) c.name = url->host + ":" + std::to_string(url->port) + url->path;
  c.timeout = entry.GetDuration("remote_timeout", c.timeout);
  if (entry.Has("remote_timeout")) CheckPositive(entry, "remote_timeout", c.timeout);
  if (std::optional<ConfigNode> ba = entry.Child("basic_auth"); ba && !ba->IsNull()) {
    c.basic_auth_username = ba->RequiredString("username");
    c.basic_auth_password = ba->Secret("password", "password_file");
    ba->CheckUnknownKeys();
  }
  c.bearer_token = entry.Secret("bearer_token", "bearer_token_file");
  if (!c.bearer_token.empty() && !c.basic_auth_username.empty()) {
    entry.Error("give at most one of basic_auth and bearer_token");
  }
  if (std::optional<ConfigNode> tls = entry.Child("tls_config"); tls && !tls->IsNull()) {
    c.tls.ca_file = tls->String("ca_file");
    c.tls.cert_file = tls->String("cert_file");
    c.tls.key_file = tls->String("key_file");
    c.tls.insecure_skip_verify = tls->Bool("insecure_skip_verify", false);
    if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
      tls->Error("cert_file and key_file go together");
    }
    tls->CheckUnknownKeys();
  }
  for (const ConfigNode& r : entry.List("write_relabel_configs")) {
    if (!r.IsMap()) {
      r.Error("want a mapping");
      continue;
    }
    c.write_relabel_configs.push_back(ParseRelabelRule(r));
  }
  if (std::optional<ConfigNode> q = entry.Child("queue_config"); q && !q->IsNull()) {
    QueueConfig& qc = c.queue;
    qc.capacity = static_cast<std::size_t>(q->Int("capacity", 50000, 1, 100'000'000));
    qc.max_samples_per_send =
        static_cast<std::size_t>(q->Int("max_samples_per_send", 2000, 1, 1'000'000));
    qc.batch_send_deadline = q->GetDuration("batch_send_deadline", qc.batch_send_deadline);
    qc.min_shards = static_cast<int>(q->Int("min_shards", 1, 1, 1000));
    qc.max_shards = static_cast<int>(q->Int("max_shards", std::max(4, qc.min_shards), 1, 1000));
    qc.min_backoff = q->GetDuration("min_backoff", qc.min_backoff);
    qc.max_backoff = q->GetDuration("max_backoff", qc.max_backoff);
    if (q->Has("batch_send_deadline")) {
      CheckPositive(*q, "batch_send_deadline", qc.batch_send_deadline);
    }
    if (q->Has("min_backoff")) CheckPositive(*q, "min_backoff", qc.min_backoff);
    if (qc.max_shards < qc.min_shards) q->Error("max_shards is below min_shards");
    if (qc.max_backoff < qc.min_backoff) q->Error("max_backoff is below min_backoff");
    q->CheckUnknownKeys();
  }
  entry.CheckUnknownKeys();
  return c;
}

std::vector<RemoteWriteConfig> ParseRemoteWrite(const ConfigNode& root) {
  std::vector<RemoteWriteConfig> out;
  std::set<std::string> names;
  for (const ConfigNode& entry : root.List("remote_write")) {
    if (!entry.IsMap()) {
      entry.Error("want a mapping with at least \"url\"");
      continue;
    }
    RemoteWriteConfig c = ParseRemoteWriteEntry(entry);
    if (!c.name.empty() && !names.insert(c.name).second) {
      entry.Error("duplicate remote_write name \"" + c.name + "\" (set distinct \"name\"s)");
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace vigil::remote
