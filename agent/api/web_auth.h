// The web config file (exporter-toolkit's format, `--web.config.file`): TLS for every
// endpoint and HTTP basic auth with bcrypt-hashed passwords.
//
//   tls_server_config: {cert_file: server.crt, key_file: server.key}
//   basic_auth_users: {alice: $2y$10$...}
//
// BasicAuth is thread-safe. bcrypt is slow by design, so a login flood must not burn the CPU:
// outcomes are cached (accepted and refused, each bounded) as salted digests, never as the
// password, and at most one bcrypt runs at a time: a check that would wait for it answers
// kBusy instead (the server says 429). Names and hashes are compared in constant time, and an
// unknown user costs a bcrypt like a known one.
#pragma once

#include <map>
#include <set>
#include <string>

#include "agent/base/mutex.h"
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
  enum class Outcome { kAccepted, kRefused, kBusy };

  explicit BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}
  bool enabled() const { return !users_.empty(); }
  // kAccepted when `authorization` ("Basic base64(user:password)") names a user whose bcrypt
  // hash matches the password; kBusy when another check is running bcrypt.
  Outcome Check(const std::string& authorization) EXCLUDES(mu_, bcrypt_mu_);

  static constexpr std::size_t kMaxCached = 1000;  // per outcome

 private:
  std::map<std::string, std::string> users_;
  Mutex mu_;
  std::set<std::string> accepted_ GUARDED_BY(mu_);  // digests of "user:password"
  std::set<std::string> refused_ GUARDED_BY(mu_);
  Mutex bcrypt_mu_ ACQUIRED_BEFORE(mu_);  // one bcrypt at a time
};

}  // namespace vigil
