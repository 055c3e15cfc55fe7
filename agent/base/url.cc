#include "agent/base/url.h"

namespace vigil {

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
