// Addresses vigil is configured with: host:port (web.listen_address, Redis) and the http(s)
// URLs (Alertmanager, remote_write, scrape targets, web.external_url): their host and port,
// where the authority is, and whether it carries credentials. The one home for parsing them. vigil
// refuses `user:password@` in every configured URL (credentials go in basic_auth, so they never
// reach a label, a log line or an alert's generatorURL); these are the one place that finds them.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace vigil {

struct HostPort {
  std::string host;  // without an IPv6 literal's brackets; empty in ":9633" (every interface)
  int port = 0;
};

// "host:port", "[v6]:port" or ":port", with a port from 1 to 65535; an IPv6 host must be in
// brackets. Errors read `invalid address "ADDRESS": why`.
Result<HostPort> ParseHostPort(std::string_view address);
// A URL's authority without userinfo: "host", "host:port", "[v6]" or "[v6]:port"; the port is
// `default_port` when absent. The host may not be empty.
Result<HostPort> ParseAuthority(std::string_view authority, int default_port);

// The authority of `url` ("user:pw@host:port" in "http://user:pw@host:port/path?q"): what lies
// between "://" and the first '/', '?' or '#'. Empty when there is no "://".
std::string_view UrlAuthority(std::string_view url);

// True when the authority holds userinfo (an '@').
bool UrlHasUserinfo(std::string_view url);

// `url` without its userinfo: "http://user:pw@host/x" -> "http://host/x". For labels and
// messages about a URL that was not validated (RedactSecrets masks only the password).
std::string UrlWithoutUserinfo(std::string_view url);

}  // namespace vigil
