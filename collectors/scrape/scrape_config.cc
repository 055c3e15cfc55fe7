#include "collectors/scrape/scrape_config.h"

#include "agent/base/url.h"
#include "collectors/scrape/scrape_collector.h"

namespace vigil::collectors {

void ParseScrapeConfig(const ConfigNode& node, CollectorSpec& spec) {
  ScrapeConfig config;
  config.name = spec.target;
  config.url = node.RequiredString("url");
  std::string_view url = config.url;
  std::size_t scheme_end = url.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? "" : url.substr(0, scheme_end);
  if (!config.url.empty()) {
    if (scheme != "http" && scheme != "https") {
      node.Child("url")->Error("invalid url \"" + UrlWithoutUserinfo(config.url) +
                               "\" (want http://host:port/path)");
    } else {
      std::string_view rest = url.substr(scheme_end + 3);
      std::size_t slash = rest.find('/');
      std::string_view authority = rest.substr(0, slash);
      if (UrlHasUserinfo(url)) {
        node.Child("url")->Error("credentials in the url are not allowed: use basic_auth");
      } else if (authority.empty()) {
        node.Child("url")->Error("invalid url \"" + UrlWithoutUserinfo(config.url) + "\": no host");
      } else if (Result<HostPort> hp = ParseAuthority(authority, 80); !hp.ok()) {
        node.Child("url")->Error("invalid url \"" + config.url + "\": " + hp.status().message());
      }
      config.scheme_host_port = std::string(url.substr(0, scheme_end + 3 + authority.size()));
      config.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
      config.instance = std::string(authority);
      if (authority.find(':') == std::string_view::npos ||
          (authority.front() == '[' && authority.back() == ']')) {
        config.instance += scheme == "https" ? ":443" : ":80";
      }
    }
  }
  config.job = node.String("job", spec.target);
  config.instance = node.String("instance", config.instance);
  // Prometheus's scrape limits, where 0 means none; vigil has no unlimited (the agent must
  // outlive its targets), so 0 is refused with the largest value instead.
  auto limit = [&](std::string_view key, std::size_t def, long long min, long long max,
                   bool bytes) {
    if (auto child = node.Child(key); child && !child->IsNull() && child->AsString() == "0") {
      child->Error("0 (no limit) is not allowed; the largest is " + std::to_string(max));
      return def;
    }
    long long d = static_cast<long long>(def);
    return static_cast<std::size_t>(bytes ? node.Bytes(key, d, min, max)
                                          : node.Int(key, d, min, max));
  };
  config.body_size_limit = limit("body_size_limit", config.body_size_limit, 1024, 1LL << 30, true);
  config.sample_limit = limit("sample_limit", config.sample_limit, 1, 100'000'000, false);
  // The metric name, job and instance take three.
  config.label_limit = limit("label_limit", config.label_limit, 3, 100'000, false);
  config.label_name_length_limit =
      limit("label_name_length_limit", config.label_name_length_limit, 1, 1 << 20, false);
  config.label_value_length_limit =
      limit("label_value_length_limit", config.label_value_length_limit, 1, 16 << 20, false);
  config.honor_labels = node.Bool("honor_labels", false);
  if (auto auth = node.Child("basic_auth")) {
    if (!auth->IsMap()) {
      auth->Error("want a mapping {username, password | password_file}");
    } else {
      config.username = auth->RequiredString("username");
      config.password = auth->Secret("password", "password_file");
      auth->CheckUnknownKeys();
    }
  }
  config.bearer_token = node.Secret("bearer_token", "bearer_token_file");
  if (!config.username.empty() && !config.bearer_token.empty()) {
    node.Error("give at most one of basic_auth and bearer_token");
  }
  spec.make = [config] { return std::make_unique<ScrapeCollector>(config); };
}

}  // namespace vigil::collectors
