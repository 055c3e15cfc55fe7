#include "agent/app/web_auth.h"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/config/config_node.h"

namespace vigil {
namespace {

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
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open web config file");
  std::stringstream ss;
  ss << in.rdbuf();
  ConfigErrors errors(path);
  YAML::Node doc;
  try {
    doc = YAML::Load(ss.str());
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

bool BasicAuth::Check(const std::string& authorization) {
  if (!authorization.starts_with("Basic ")) return false;
  std::string decoded = Base64Decode(authorization.substr(6));
  std::size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  std::string user = decoded.substr(0, colon), password = decoded.substr(colon + 1);
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  std::string digest = Digest(it->second + "\n" + decoded);  // salted by the stored hash
  {
    std::lock_guard lock(mu_);
    if (verified_.count(digest)) return true;
  }
  crypt_data data;
  std::memset(&data, 0, sizeof data);
  const char* result = crypt_r(password.c_str(), it->second.c_str(), &data);
  bool ok = result != nullptr && result[0] != '*' && it->second == result;
  if (ok) {
    std::lock_guard lock(mu_);
    if (verified_.size() > 1000) verified_.clear();
    verified_.insert(digest);
  }
  return ok;
}

}  // namespace vigil
