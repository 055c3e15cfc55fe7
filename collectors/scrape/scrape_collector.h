// The scrape collector: one HTTP endpoint in the Prometheus text format (e.g. a service's
// /metrics), fetched with cpp-httplib (gzip accepted, timeouts from ctx.deadline, optional
// basic auth or bearer token) and parsed by ParseExposition.
//
// Every scraped sample gets `job` and `instance` labels; a scraped label of the same name is
// kept as `exported_<name>` (Prometheus' honor_labels: false), or wins with honor_labels.
// Also emitted: scrape_samples_scraped, scrape_duration_seconds and scrape_body_size_bytes.
//
// Prometheus's scrape limits hold, none of them unlimited: the body is read as a stream and
// the read stops as soon as the decompressed body passes body_size_limit (a gzip bomb is
// never inflated further); the parser stops at the first sample over label_limit,
// label_name_length_limit or label_value_length_limit, and past sample_limit only counts.
// A scrape over a limit fails whole (ResourceExhausted, no scraped sample kept, as in
// Prometheus) and logs one warning when a target starts failing a limit, not every scrape.
// A transport error or a non-200 status (the body is then not read) fails the scrape too;
// bad lines fail it but keep the good ones. A failure makes
// vigil_collector_up{collector="scrape"} 0 with the reason as the collector's last error.
// Credentials are never logged or exported.
// Thread-compatible: the scheduler never runs one instance concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collectors/collector.h"

namespace httplib {
class Client;
}

namespace vigil::collectors {

struct ScrapeConfig {
  std::string name;
  std::string scheme_host_port;   // "http://127.0.0.1:8080"
  std::string path = "/metrics";  // with the query, if any
  std::string url;                // as configured, for messages
  std::string job;                // default: the name
  std::string instance;           // default: host:port
  bool honor_labels = false;
  // Limits (docs/configuration.md says why these defaults); each must be > 0.
  std::size_t body_size_limit = 16 << 20;  // decompressed bytes
  std::size_t sample_limit = 50'000;
  std::size_t label_limit = 64;  // with the metric name, job and instance
  std::size_t label_name_length_limit = 256;
  std::size_t label_value_length_limit = 4096;  // the metric name too
  std::string username, password;               // basic auth when username is set
  std::string bearer_token;
};

class ScrapeCollector final : public Collector {
 public:
  explicit ScrapeCollector(ScrapeConfig config);
  ~ScrapeCollector() override;
  Status Collect(const CollectContext& ctx, MetricSink& sink) override;

  const ScrapeConfig& config() const { return config_; }
  // The largest body buffer (allocated bytes) any scrape held; at most body_size_limit.
  std::size_t peak_body_capacity() const { return peak_body_capacity_; }

 private:
  struct Outcome {
    std::size_t samples = 0;
    double body_bytes = 0;  // -1 when body_size_limit stopped the read (as Prometheus)
    bool over_limit = false;
  };
  Status Scrape(const CollectContext& ctx, MetricSink& sink, Outcome& outcome);
  Status Fetch(const CollectContext& ctx, std::vector<char>& body, Outcome& outcome);
  Labels TargetLabels(Labels scraped) const;

  ScrapeConfig config_;
  std::unique_ptr<httplib::Client> client_;
  std::size_t peak_body_capacity_ = 0;
  bool over_limit_ = false;  // the last scrape failed a limit (and said so in the log)
};

}  // namespace vigil::collectors
