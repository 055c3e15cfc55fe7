// The web config file (exporter-toolkit's format, `--web.config.file`): TLS for every
// endpoint and HTTP basic auth with bcrypt-hashed passwords.
//
//   tls_server_config: {cert_file: server.crt, key_file: server.key}
//   basic_auth_users: {alice: $2y$10$...}
//
// BasicAuth is thread-safe; verified credentials are cached (bcrypt is slow by design) as a
// salted digest, never as the password.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "agent/base/status.h"

namespace vigil {

struct WebAuthConfig {
  std::string cert_file, key_file;           // both or neither
  std::map<std::string, std::string> users;  // user -> bcrypt hash
};

// Errors name file:line:column as the main config's do.
Result<WebAuthConfig> LoadWebAuthConfig(const std::string& path);

class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}
  bool enabled() const { return !users_.empty(); }
  // True when `authorization` ("Basic base64(user:password)") names a user whose bcrypt hash
  // matches the password.
  bool Check(const std::string& authorization);

 private:
  std::map<std::string, std::string> users_;
  std::mutex mu_;
  std::set<std::string> verified_;  // digests of accepted "user:password"; GUARDED_BY(mu_)
};

}  // namespace vigil
