// libFuzzer target: the Redis INFO parser and the metrics written from what it parsed.
#include <cstdint>
#include <string_view>

#include "agent/base/metric.h"
#include "collectors/redis/redis_info.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vigil::collectors::RedisInfo info = vigil::collectors::ParseRedisInfo(text);
  vigil::MetricSink sink;
  vigil::collectors::WriteRedisInfoMetrics(info, 1700000000.0, sink);
  sink.Take();
  vigil::collectors::ParseRedisNumber(text.substr(0, 64));
  return 0;
}
