// What the remote write queues hold and how a batch goes on the wire: a protobuf
// WriteRequest (remote.proto), snappy-compressed (block format), as remote write 1.0 wants.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/base/clock.h"
#include "agent/base/labels.h"

namespace vigil::remote {

// A series as it is sent: external labels added and write_relabel_configs applied,
// __name__ included. Shared by every queued sample of the series.
struct SeriesRef {
  Labels labels;
  std::size_t hash = 0;  // labels.Hash(): picks the shard, so a series stays in order
};

struct QueuedSample {
  std::shared_ptr<const SeriesRef> series;
  TimestampMs t = 0;
  double v = 0;
};

// The serialized (uncompressed) WriteRequest: samples of one series become one TimeSeries,
// in the order given.
std::string SerializeWriteRequest(const std::vector<QueuedSample>& batch);
// Snappy block compression of the above: the request body.
std::string EncodeWriteRequest(const std::vector<QueuedSample>& batch);

}  // namespace vigil::remote
