#include "agent/remote/remote_writer.h"

#include "agent/base/mutex.h"
#include "agent/base/thread_name.h"
#include "agent/remote/http_sender.h"

namespace vigil::remote {
namespace {

// Beyond this many cached series an endpoint's cache starts over (series churn).
constexpr std::size_t kMaxCachedSeries = 100000;

}  // namespace

RemoteWriter::RemoteWriter(std::vector<RemoteWriteConfig> configs, Labels external_labels,
                           SenderFactory factory, Duration reshard_interval)
    : configs_(std::move(configs)), external_labels_(std::move(external_labels)) {
  if (!factory) {
    factory = [](const RemoteWriteConfig& c) { return std::make_unique<HttpSender>(c); };
  }
  for (const RemoteWriteConfig& c : configs_) {
    auto e = std::make_unique<Endpoint>();
    for (const RelabelRule& r : c.write_relabel_configs) {
      e->relabel.push_back(RelabelConfig::Make(r).value());
    }
    e->queue = std::make_unique<QueueManager>(c.name, c.url, c.queue, factory(c), reshard_interval);
    endpoints_.push_back(std::move(e));
  }
}

RemoteWriter::~RemoteWriter() { Stop(Duration(0)); }

std::shared_ptr<const SeriesRef> RemoteWriter::Resolve(Endpoint& e, const Labels& labels) {
  auto it = e.cache.find(labels);
  if (it != e.cache.end()) return it->second;
  if (e.cache.size() >= kMaxCachedSeries) e.cache.clear();
  Labels out = labels;
  for (const Label& l : external_labels_) {
    if (!out.Has(l.name)) out.Set(l.name, l.value);
  }
  std::shared_ptr<const SeriesRef> ref;
  if (Relabel(e.relabel, out) && !out.empty()) {
    auto r = std::make_shared<SeriesRef>();
    r->hash = out.Hash();
    r->labels = std::move(out);
    ref = std::move(r);
  }
  e.cache.emplace(labels, ref);
  return ref;
}

void RemoteWriter::Append(const std::vector<WriterSample>& samples) {
  for (const std::unique_ptr<Endpoint>& e : endpoints_) {
    std::uint64_t dropped = 0;
    {
      MutexLock lock(e->mu);
      for (const WriterSample& s : samples) {
        std::shared_ptr<const SeriesRef> ref = Resolve(*e, *s.labels);
        if (!ref) {
          ++dropped;
          continue;
        }
        e->queue->Append(std::move(ref), s.t, s.v);
      }
    }
    if (dropped > 0) e->queue->CountDropped(dropped);
  }
}

void RemoteWriter::Append(const Labels& labels, TimestampMs t, double v) {
  Append(std::vector<WriterSample>{{&labels, t, v}});
}

void RemoteWriter::Stop(Duration flush) {
  // Flush all endpoints at once: each gets the same deadline.
  std::vector<std::thread> stoppers;
  for (const std::unique_ptr<Endpoint>& e : endpoints_) {
    stoppers.emplace_back([&e, flush] {
      SetCurrentThreadName("vigil-rw-stop");
      e->queue->Stop(flush);
    });
  }
  for (std::thread& t : stoppers) t.join();
}

void RemoteWriter::Collect(MetricSink& sink) const {
  for (const std::unique_ptr<Endpoint>& e : endpoints_) e->queue->Collect(sink);
}

std::uint64_t RemoteWriter::generation() const {
  std::uint64_t g = 0;
  for (const std::unique_ptr<Endpoint>& e : endpoints_) g += e->queue->generation();
  return g;
}

std::vector<QueueStats> RemoteWriter::Stats() const {
  std::vector<QueueStats> out;
  for (const std::unique_ptr<Endpoint>& e : endpoints_) out.push_back(e->queue->Stats());
  return out;
}

}  // namespace vigil::remote
