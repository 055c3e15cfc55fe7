#include "agent/remote/encode.h"

#include <snappy.h>

#include <unordered_map>

#include "agent/remote/remote.pb.h"

namespace vigil::remote {

std::string SerializeWriteRequest(const std::vector<QueuedSample>& batch) {
  prompb::WriteRequest req;
  std::unordered_map<const SeriesRef*, prompb::TimeSeries*> by_series;
  by_series.reserve(batch.size());
  for (const QueuedSample& s : batch) {
    prompb::TimeSeries*& ts = by_series[s.series.get()];
    if (ts == nullptr) {
      ts = req.add_timeseries();
      ts->mutable_labels()->Reserve(static_cast<int>(s.series->labels.size()));
      for (const Label& l : s.series->labels) {
        prompb::Label* pl = ts->add_labels();
        pl->set_name(l.name);
        pl->set_value(l.value);
      }
    }
    prompb::Sample* ps = ts->add_samples();
    ps->set_value(s.v);
    ps->set_timestamp(s.t);
  }
  return req.SerializeAsString();
}

std::string EncodeWriteRequest(const std::vector<QueuedSample>& batch) {
  std::string raw = SerializeWriteRequest(batch);
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

}  // namespace vigil::remote
