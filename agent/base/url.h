// Small helpers for the http(s) URLs vigil is configured with (Alertmanager, remote_write,
// scrape targets, web.external_url): where the authority is, and whether it carries
// credentials. vigil refuses `user:password@` in every configured URL (credentials go in
// basic_auth, so they never reach a label, a log line or an alert's generatorURL); these are
// the one place that finds them. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// The authority of `url` ("user:pw@host:port" in "http://user:pw@host:port/path?q"): what lies
// between "://" and the first '/', '?' or '#'. Empty when there is no "://".
std::string_view UrlAuthority(std::string_view url);

// True when the authority holds userinfo (an '@').
bool UrlHasUserinfo(std::string_view url);

// `url` without its userinfo: "http://user:pw@host/x" -> "http://host/x". For labels and
// messages about a URL that was not validated (RedactSecrets masks only the password).
std::string UrlWithoutUserinfo(std::string_view url);

}  // namespace vigil
