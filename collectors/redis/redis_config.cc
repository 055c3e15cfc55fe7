#include "collectors/redis/redis_config.h"

#include "agent/base/url.h"
#include "collectors/redis/redis_collector.h"

namespace vigil::collectors {

void ParseRedisConfig(const ConfigNode& node, CollectorSpec& spec) {
  RedisConfig config;
  config.name = spec.target;
  std::string address = node.String("address", "127.0.0.1:6379");
  Result<HostPort> parsed = ParseHostPort(address);
  if (!parsed.ok()) {
    node.Child("address")->Error(parsed.status().message());
  } else if (parsed->host.empty()) {
    node.Child("address")->Error("invalid address \"" + address + "\": want host:port");
  } else {
    config.host = parsed->host;
    config.port = parsed->port;
  }
  config.username = node.String("username");
  config.password = node.Secret("password", "password_file");
  config.slowlog = node.Bool("slowlog", true);
  config.slowlog_max = static_cast<int>(node.Int("slowlog_max", 128, 1, 10000));
  spec.make = [config] { return std::make_unique<RedisCollector>(config); };
}

}  // namespace vigil::collectors
