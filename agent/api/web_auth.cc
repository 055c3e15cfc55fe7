#include "agent/api/web_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <fstream>

#include "agent/base/config_node.h"
#include "agent/base/file.h"
#include "agent/base/mutex.h"

namespace vigil {
namespace {

constexpr std::size_t kMaxWebConfigBytes = std::size_t{1} << 20;

std::string Base64Decode(const std::string& in) {
  std::string out((in.size() / 4 + 1) * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return "";
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (!in.empty() && in.back() == '=') --len;
  if (in.size() > 1 && in[in.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string Digest(const std::string& text) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

}  // namespace

Result<WebAuthConfig> LoadWebAuthConfig(const std::string& path) {
  Result<std::string> text = ReadFileBounded(path, kMaxWebConfigBytes);
  if (text.status().code() == Status::Code::kNotFound) {
    return Status::NotFound(path + ": cannot open web config file");
  }
  if (!text.ok()) return text.status().WithContext(path);
  ConfigErrors errors(path);
  YAML::Node doc;
  try {
    doc = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark.line, e.mark.column, "malformed YAML: " + e.msg);
    return errors.ToStatus();
  }
  WebAuthConfig out;
  ConfigNode root(doc, "", &errors);
  if (!root.IsNull()) {
    if (auto tls = root.Child("tls_server_config"); tls && !tls->IsNull()) {
      out.cert_file = tls->RequiredString("cert_file");
      out.key_file = tls->RequiredString("key_file");
      for (const std::string& f : {out.cert_file, out.key_file}) {
        if (!f.empty() && !std::ifstream(f)) tls->Error("cannot read \"" + f + "\"");
      }
      tls->CheckUnknownKeys();
    }
    if (auto users = root.Child("basic_auth_users"); users && !users->IsNull()) {
      if (!users->IsMap()) {
        users->Error("want a mapping of user names to bcrypt hashes");
      } else {
        for (auto it = doc["basic_auth_users"].begin(); it != doc["basic_auth_users"].end(); ++it) {
          std::string user = it->first.as<std::string>();
          std::string hash = it->second.as<std::string>();
          ConfigNode value(it->second, "basic_auth_users." + user, &errors);
          if (!hash.starts_with("$2")) value.Error("want a bcrypt hash ($2a$, $2b$ or $2y$)");
          out.users[user] = hash;
        }
      }
    }
    root.CheckUnknownKeys();
  }
  if (!errors.empty()) return errors.ToStatus();
  return out;
}

BasicAuth::Outcome BasicAuth::Check(const std::string& authorization) {
  if (!authorization.starts_with("Basic ") || authorization.size() > 4096) {
    return Outcome::kRefused;
  }
  std::string decoded = Base64Decode(authorization.substr(6));
  std::size_t colon = decoded.find(':');
  if (colon == std::string::npos) return Outcome::kRefused;
  std::string user = decoded.substr(0, colon), password = decoded.substr(colon + 1);
  // Every name is compared, in constant time, so the time taken does not tell which exist.
  const std::string* hash = nullptr;
  for (const auto& [name, h] : users_) {
    bool same =
        name.size() == user.size() && CRYPTO_memcmp(name.data(), user.data(), name.size()) == 0;
    if (same) hash = &h;
  }
  // An unknown user is checked against a hash of the same cost, and always refused.
  static const std::string kDummyHash =
      "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
  const std::string& against = hash != nullptr ? *hash : kDummyHash;
  std::string digest = Digest(against + "\n" + decoded);  // salted by the stored hash
  {
    MutexLock lock(mu_);
    if (accepted_.count(digest)) return Outcome::kAccepted;
    if (refused_.count(digest)) return Outcome::kRefused;
  }
  if (!bcrypt_mu_.try_lock()) return Outcome::kBusy;
  MutexLock bcrypt(bcrypt_mu_, std::adopt_lock);
  crypt_data data;
  std::memset(&data, 0, sizeof data);
  const char* result = crypt_r(password.c_str(), against.c_str(), &data);
  bool ok = hash != nullptr && result != nullptr && result[0] != '*' &&
            std::strlen(result) == against.size() &&
            CRYPTO_memcmp(result, against.data(), against.size()) == 0;
  MutexLock lock(mu_);
  std::set<std::string>& cache = ok ? accepted_ : refused_;
  if (cache.size() >= kMaxCached) cache.clear();
  cache.insert(digest);
  return ok ? Outcome::kAccepted : Outcome::kRefused;
}

}  // namespace vigil
