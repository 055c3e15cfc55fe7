#include "agent/base/url.h"

namespace vigil {
namespace {

// 1..65535 in decimal digits only, or 0.
int ParsePort(std::string_view port) {
  if (port.empty() || port.size() > 5) return 0;
  int p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return 0;
    p = p * 10 + (c - '0');
  }
  return p <= 65535 ? p : 0;
}

std::string_view Unbracket(std::string_view host) {
  return host.size() >= 2 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
}

}  // namespace

Result<HostPort> ParseHostPort(std::string_view address) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("invalid address \"" + std::string(address) + "\": " + why);
  };
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return bad("want host:port");
  std::string_view host = address.substr(0, colon);
  if (host.starts_with('[') != host.ends_with(']')) return bad("unbalanced brackets");
  if (!host.starts_with('[') && host.find(':') != std::string_view::npos) {
    return bad("an IPv6 host must be in brackets");
  }
  int port = ParsePort(address.substr(colon + 1));
  if (port == 0) return bad("want a port from 1 to 65535");
  return HostPort{std::string(Unbracket(host)), port};
}

Result<HostPort> ParseAuthority(std::string_view authority, int default_port) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("invalid host \"" + std::string(authority) + "\": " + why);
  };
  std::size_t colon = authority.rfind(':');
  std::size_t bracket = authority.rfind(']');
  std::string_view host = authority;
  int port = default_port;
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = ParsePort(authority.substr(colon + 1));
    if (port == 0) return bad("want a port from 1 to 65535");
  }
  if (host.starts_with('[') != host.ends_with(']')) return bad("unbalanced brackets");
  if (!host.starts_with('[') && host.find(':') != std::string_view::npos) {
    return bad("an IPv6 host must be in brackets");
  }
  host = Unbracket(host);
  if (host.empty()) return bad("no host");
  return HostPort{std::string(host), port};
}

std::string_view UrlAuthority(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  return rest.substr(0, rest.find_first_of("/?#"));
}

bool UrlHasUserinfo(std::string_view url) {
  return UrlAuthority(url).find('@') != std::string_view::npos;
}

std::string UrlWithoutUserinfo(std::string_view url) {
  std::string_view authority = UrlAuthority(url);
  std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::size_t start = static_cast<std::size_t>(authority.data() - url.data());
  return std::string(url.substr(0, start)) + std::string(url.substr(start + at + 1));
}

}  // namespace vigil
