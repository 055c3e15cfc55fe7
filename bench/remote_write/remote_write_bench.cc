// Remote write figures (printed, not pass/fail):
//  1. throughput: samples per second per core of CPU, from Append to an accepted batch,
//     (a) with a sender that only counts bytes and (b) over HTTP to a loopback receiver;
//  2. bytes per sample on the wire (snappy-compressed WriteRequests) for vigil-like series;
//  3. memory held by a full queue at its bound (malloc'd bytes per queued sample).
// Usage: vigil_remote_write_bench [series=2000] [rounds=200] [capacity=100000]
#include <httplib.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

#include "agent/remote/remote_writer.h"

using namespace vigil;
using namespace vigil::remote;

namespace {

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class CountingSender final : public WriteSender {
 public:
  SendResult Send(const std::string&) override { return {200, "", Duration(-1)}; }
};

class HoldingSender final : public WriteSender {
 public:
  SendResult Send(const std::string&) override {
    std::this_thread::sleep_for(std::chrono::hours(1));
    return {};
  }
};

// Series shaped like vigil's: a name, 2-4 labels (target, database, state, ...).
std::vector<Labels> MakeSeries(int n) {
  static const char* names[] = {"pg_stat_database_tup_fetched", "pg_stat_statements_calls_delta",
                                "redis_commands_total", "namedprocess_namegroup_memory_bytes",
                                "http_request_duration_seconds_bucket"};
  std::vector<Labels> out;
  for (int i = 0; i < n; ++i) {
    Labels l{{"__name__", names[i % 5]},
             {"target", "main"},
             {"datname", "shop_" + std::to_string(i % 7)},
             {"queryid", std::to_string(1000003 * (i + 1))}};
    out.push_back(std::move(l));
  }
  return out;
}

struct Run {
  double samples = 0, cpu = 0, wall = 0, bytes = 0;
};

Run Drive(int n_series, int rounds, RemoteWriter::SenderFactory factory, const std::string& url) {
  RemoteWriteConfig c;
  c.url = url;
  c.name = "bench";
  c.queue.capacity = 10'000'000;
  c.queue.batch_send_deadline = Duration(50);
  std::vector<Labels> series = MakeSeries(n_series);
  RemoteWriter w({c}, Labels{{"env", "bench"}}, std::move(factory));
  double cpu0 = CpuSeconds(), wall0 = WallSeconds();
  std::vector<WriterSample> batch(series.size());
  TimestampMs t = 1'700'000'000'000;
  for (int r = 0; r < rounds; ++r) {
    t += 15000;
    for (std::size_t i = 0; i < series.size(); ++i) {
      batch[i] = WriterSample{&series[i], t, static_cast<double>(r * 7 + static_cast<int>(i))};
    }
    w.Append(batch);
  }
  auto total = static_cast<std::uint64_t>(n_series) * static_cast<std::uint64_t>(rounds);
  while (w.Stats()[0].samples_sent < total) std::this_thread::sleep_for(Duration(1));
  Run run{static_cast<double>(total), CpuSeconds() - cpu0, WallSeconds() - wall0,
          static_cast<double>(w.Stats()[0].bytes_sent)};
  w.Stop(Duration(0));
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  int n_series = argc > 1 ? std::stoi(argv[1]) : 2000;
  int rounds = argc > 2 ? std::stoi(argv[2]) : 200;
  std::size_t capacity = argc > 3 ? std::stoul(argv[3]) : 100000;
  std::printf("remote write bench: %d series x %d rounds (max_samples_per_send 2000)\n", n_series,
              rounds);

  Run mem = Drive(
      n_series, rounds, [](const RemoteWriteConfig&) { return std::make_unique<CountingSender>(); },
      "http://127.0.0.1:1/api/v1/write");
  std::printf("in-process sender:  %.0f samples/s per core (%.2f s CPU, %.2f s wall)\n",
              mem.samples / mem.cpu, mem.cpu, mem.wall);
  std::printf("bytes per sample on the wire: %.2f (snappy-compressed protobuf)\n",
              mem.bytes / mem.samples);

  httplib::Server rx;
  rx.set_tcp_nodelay(true);
  rx.Post("/api/v1/write",
          [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  int port = rx.bind_to_any_port("127.0.0.1");
  std::thread rx_thread([&] { rx.listen_after_bind(); });
  Run http = Drive(n_series, rounds, nullptr,
                   "http://127.0.0.1:" + std::to_string(port) + "/api/v1/write");
  std::printf(
      "loopback HTTP:      %.0f samples/s per core (%.2f s CPU incl. the receiver, %.2f s "
      "wall)\n",
      http.samples / http.cpu, http.cpu, http.wall);
  rx.stop();
  rx_thread.join();

  // A full queue: the endpoint never answers.
  {
    std::vector<Labels> series = MakeSeries(n_series);
    RemoteWriteConfig c;
    c.url = "http://127.0.0.1:1/api/v1/write";
    c.name = "full";
    c.queue.capacity = capacity;
    c.queue.max_shards = 1;
    c.queue.batch_send_deadline = Duration(3600000);
    c.queue.max_samples_per_send = capacity + 1;
    malloc_trim(0);
    std::size_t before = mallinfo2().uordblks;
    auto* w = new RemoteWriter({c}, Labels{{"env", "bench"}}, [](const RemoteWriteConfig&) {
      return std::make_unique<HoldingSender>();
    });
    TimestampMs t = 1'700'000'000'000;
    std::vector<WriterSample> batch(series.size());
    while (w->Stats()[0].pending < capacity) {
      t += 15000;
      for (std::size_t i = 0; i < series.size(); ++i) batch[i] = WriterSample{&series[i], t, 1.0};
      w->Append(batch);
    }
    std::size_t after = mallinfo2().uordblks;
    double per_series_cache = 0;  // included: each series' labels once, shared by its samples
    (void)per_series_cache;
    std::printf(
        "full queue: %zu samples held, %.1f MiB malloc'd (%.1f bytes per sample, %d series' "
        "labels included); %llu more dropped\n",
        capacity, static_cast<double>(after - before) / (1 << 20),
        static_cast<double>(after - before) / static_cast<double>(capacity), n_series,
        static_cast<unsigned long long>(w->Stats()[0].samples_dropped));
    std::fflush(stdout);
    std::_Exit(0);  // the held sender never returns; do not wait for it
  }
}
