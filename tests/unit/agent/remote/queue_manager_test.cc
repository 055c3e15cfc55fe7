#include "agent/remote/queue_manager.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "agent/remote/http_sender.h"
#include "fake_sender.h"

namespace vigil::remote {
namespace {

using testing::Decode;
using testing::Eventually;
using testing::FakeSender;
using testing::Series;

struct Harness {
  std::shared_ptr<FakeSender::Shared> shared = std::make_shared<FakeSender::Shared>();
  std::unique_ptr<QueueManager> q;
  explicit Harness(QueueConfig c, Duration reshard = Duration(10000)) {
    q = std::make_unique<QueueManager>("r", "http://127.0.0.1:1/api/v1/write", c,
                                       std::make_unique<FakeSender>(shared), reshard);
  }
  std::size_t bodies() {
    std::lock_guard lock(shared->mu);
    return shared->bodies.size();
  }
  std::string body(std::size_t i) {
    std::lock_guard lock(shared->mu);
    return shared->bodies.at(i);
  }
  void Hold(bool on) {
    {
      std::lock_guard lock(shared->mu);
      shared->hold = on;
    }
    shared->cv.notify_all();
  }
};

QueueConfig Fast() {
  QueueConfig c;
  c.max_samples_per_send = 10;
  c.batch_send_deadline = Duration(30);
  c.min_backoff = Duration(5);
  c.max_backoff = Duration(40);
  c.max_shards = 1;
  return c;
}

TEST_CASE("queue sends full batches at once and the rest at the deadline, in order", "[remote]") {
  Harness h(Fast());
  auto s = Series(Labels{{"__name__", "m"}});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 25; ++i) REQUIRE(h.q->Append(s, 1000 * (i + 1), i));
  REQUIRE(Eventually([&] { return h.q->Stats().samples_sent == 25; }));
  REQUIRE(h.bodies() == 3);
  CHECK(std::chrono::steady_clock::now() - start >= Duration(30));
  std::vector<double> values;
  for (std::size_t b = 0; b < 3; ++b) {
    prompb::WriteRequest req = Decode(h.body(b));
    REQUIRE(req.timeseries_size() == 1);
    for (const prompb::Sample& smp : req.timeseries(0).samples()) values.push_back(smp.value());
  }
  REQUIRE(values.size() == 25);
  for (int i = 0; i < 25; ++i) CHECK(values[static_cast<std::size_t>(i)] == i);
  QueueStats st = h.q->Stats();
  CHECK(st.pending == 0);
  CHECK(st.batches_sent == 3);
  CHECK(st.highest_sent_timestamp_seconds == 25.0);
  CHECK(st.highest_timestamp_seconds == 25.0);
}

TEST_CASE("queue retries 5xx, 429 and network errors with growing backoff", "[remote]") {
  Harness h(Fast());
  {
    std::lock_guard lock(h.shared->mu);
    h.shared->script = {{500, "boom", Duration(-1)},
                        {0, "connection refused", Duration(-1)},
                        {503, "", Duration(-1)},
                        {502, "", Duration(-1)},
                        {429, "slow down", Duration(-1)}};
  }
  auto s = Series(Labels{{"__name__", "m"}});
  for (int i = 0; i < 10; ++i) h.q->Append(s, i + 1, i);
  REQUIRE(Eventually([&] { return h.q->Stats().samples_sent == 10; }));
  QueueStats st = h.q->Stats();
  CHECK(st.samples_retried == 50);
  CHECK(st.samples_failed == 0);
  REQUIRE(h.bodies() == 6);
  for (std::size_t i = 1; i < 6; ++i) CHECK(h.body(i) == h.body(0));  // the same batch
  // Backoff 5, 10, 20, 40, 40 ms (capped): each gap at least the backoff.
  std::lock_guard lock(h.shared->mu);
  const auto& t = h.shared->times;
  const int want[] = {5, 10, 20, 40, 40};
  for (std::size_t i = 1; i < t.size(); ++i) {
    CHECK(t[i] - t[i - 1] >= Duration(want[i - 1]));
  }
  CHECK(t[5] - t[0] < Duration(2000));
}

TEST_CASE("queue honours Retry-After", "[remote]") {
  Harness h(Fast());
  {
    std::lock_guard lock(h.shared->mu);
    h.shared->script = {{429, "", Duration(300)}};
  }
  auto s = Series(Labels{{"__name__", "m"}});
  for (int i = 0; i < 10; ++i) h.q->Append(s, i + 1, i);
  REQUIRE(Eventually([&] { return h.q->Stats().samples_sent == 10; }));
  std::lock_guard lock(h.shared->mu);
  REQUIRE(h.shared->times.size() == 2);
  CHECK(h.shared->times[1] - h.shared->times[0] >= Duration(300));
}

TEST_CASE("Retry-After in seconds parses, anything else is absent", "[remote]") {
  CHECK(ParseRetryAfter("7") == Duration(7000));
  CHECK(ParseRetryAfter("").count() < 0);
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT").count() < 0);
}

TEST_CASE("queue drops a batch refused with 4xx, counts it failed and goes on", "[remote]") {
  Harness h(Fast());
  {
    std::lock_guard lock(h.shared->mu);
    h.shared->script = {{400, "out of order sample", Duration(-1)}};
  }
  auto s = Series(Labels{{"__name__", "m"}});
  for (int i = 0; i < 20; ++i) h.q->Append(s, i + 1, i);
  REQUIRE(Eventually([&] { return h.q->Stats().samples_sent == 10; }));
  QueueStats st = h.q->Stats();
  CHECK(st.samples_failed == 10);
  CHECK(st.samples_retried == 0);
  CHECK(h.bodies() == 2);
  CHECK(Decode(h.body(1)).timeseries(0).samples(0).value() == 10);
}

TEST_CASE("a full queue drops new samples and counts them", "[remote]") {
  QueueConfig c = Fast();
  c.capacity = 5;
  c.max_samples_per_send = 100;
  c.batch_send_deadline = Duration(1);
  Harness h(c);
  h.Hold(true);
  auto s = Series(Labels{{"__name__", "m"}});
  int accepted = 0;
  for (int i = 0; i < 12; ++i) accepted += h.q->Append(s, i + 1, i) ? 1 : 0;
  CHECK(accepted == 5);
  QueueStats st = h.q->Stats();
  CHECK(st.samples_dropped == 7);
  CHECK(st.pending == 5);
  h.Hold(false);
  REQUIRE(Eventually([&] { return h.q->Stats().pending == 0; }));
  CHECK(h.q->Stats().samples_sent == 5);
  CHECK(h.q->Append(s, 100, 1));  // room again
}

TEST_CASE("shards grow with the backlog and keep every series in order", "[remote]") {
  QueueConfig c = Fast();
  c.max_shards = 4;
  c.capacity = 100000;
  Harness h(c, Duration(20));
  {
    std::lock_guard lock(h.shared->mu);
    h.shared->delay = Duration(5);
  }
  std::vector<std::shared_ptr<const SeriesRef>> series;
  for (int i = 0; i < 20; ++i) {
    series.push_back(Series(Labels{{"__name__", "m"}, {"i", std::to_string(i)}}));
  }
  for (int t = 1; t <= 200; ++t) {
    for (auto& s : series) h.q->Append(s, t, t);
  }
  REQUIRE(Eventually([&] { return h.q->Stats().samples_sent == 4000; }, Duration(20000)));
  {
    std::lock_guard lock(h.shared->mu);
    CHECK(h.shared->max_in_send > 1);
  }
  // Per series, timestamps strictly increase across bodies in the order they were sent.
  std::map<std::string, std::int64_t> last;
  for (std::size_t b = 0; b < h.bodies(); ++b) {
    prompb::WriteRequest req = Decode(h.body(b));
    for (const prompb::TimeSeries& ts : req.timeseries()) {
      std::string key = ts.labels(1).value();
      for (const prompb::Sample& smp : ts.samples()) {
        CHECK(smp.timestamp() > last[key]);
        last[key] = smp.timestamp();
      }
    }
  }
  CHECK(last.size() == 20);
  // Idle again: back to min_shards.
  REQUIRE(Eventually([&] { return h.q->Stats().shards == 1; }));
}

TEST_CASE("Stop flushes what is pending within the deadline", "[remote]") {
  QueueConfig c = Fast();
  c.batch_send_deadline = Duration(60000);
  Harness h(c);
  auto s = Series(Labels{{"__name__", "m"}});
  for (int i = 0; i < 5; ++i) h.q->Append(s, i + 1, i);
  h.q->Stop(Duration(2000));
  CHECK(h.q->Stats().samples_sent == 5);
  CHECK_FALSE(h.q->Append(s, 10, 1));
}

TEST_CASE("Stop gives up on a dead endpoint at the deadline", "[remote]") {
  Harness h(Fast());
  {
    std::lock_guard lock(h.shared->mu);
    for (int i = 0; i < 1000; ++i) h.shared->script.push_back({503, "", Duration(-1)});
  }
  auto s = Series(Labels{{"__name__", "m"}});
  for (int i = 0; i < 15; ++i) h.q->Append(s, i + 1, i);
  REQUIRE(Eventually([&] { return h.q->Stats().samples_retried > 0; }));
  auto start = std::chrono::steady_clock::now();
  h.q->Stop(Duration(100));
  CHECK(std::chrono::steady_clock::now() - start < Duration(1000));
  QueueStats st = h.q->Stats();
  CHECK(st.samples_failed == 10);  // the batch in flight
  CHECK(st.samples_dropped == 5);  // still queued
  CHECK(st.pending == 0);
}

TEST_CASE("queue metrics carry Prometheus's names with the vigil_ prefix", "[remote]") {
  Harness h(Fast());
  h.q->Append(Series(Labels{{"__name__", "m"}}), 1000, 1);
  MetricSink sink;
  h.q->Collect(sink);
  Snapshot snap = sink.Take();
  std::set<std::string> names;
  for (const MetricFamily& f : snap) {
    names.insert(f.name);
    for (const Sample& s : f.samples) {
      CHECK(s.labels.Get("remote_name") == "r");
      CHECK(s.labels.Get("url") == "http://127.0.0.1:1/api/v1/write");
    }
  }
  for (const char* n :
       {"vigil_remote_storage_samples_total", "vigil_remote_storage_samples_failed_total",
        "vigil_remote_storage_samples_retried_total", "vigil_remote_storage_samples_dropped_total",
        "vigil_remote_storage_samples_pending", "vigil_remote_storage_highest_timestamp_in_seconds",
        "vigil_remote_storage_queue_highest_sent_timestamp_seconds", "vigil_remote_storage_shards",
        "vigil_remote_storage_sent_batch_duration_seconds"}) {
    CHECK(names.count(n) == 1);
  }
}

}  // namespace
}  // namespace vigil::remote
