#include "collectors/redis/redis_config.h"

#include <charconv>

#include "collectors/redis/redis_collector.h"

namespace vigil {

void ParseRedisConfig(const ConfigNode& node, CollectorSpec& spec) {
  RedisConfig config;
  config.name = spec.target;
  std::string address = node.String("address", "127.0.0.1:6379");
  std::size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0) {
    node.Child("address")->Error("invalid address \"" + address + "\" (want host:port)");
  } else {
    std::string_view p = std::string_view(address).substr(colon + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || ptr != p.data() + p.size() || port < 1 || port > 65535) {
      node.Child("address")->Error("invalid port in address \"" + address + "\"");
    }
    config.host = address.substr(0, colon);
    if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') {
      config.host = config.host.substr(1, config.host.size() - 2);
    }
    config.port = port;
  }
  config.username = node.String("username");
  config.password = node.Secret("password", "password_file");
  config.slowlog = node.Bool("slowlog", true);
  config.slowlog_max = static_cast<int>(node.Int("slowlog_max", 128, 1, 10000));
  spec.make = [config] { return std::make_unique<RedisCollector>(config); };
}

}  // namespace vigil
