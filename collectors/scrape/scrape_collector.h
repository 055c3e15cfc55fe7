// The scrape collector: one HTTP endpoint in the Prometheus text format (e.g. a service's
// /metrics), fetched with cpp-httplib (gzip accepted, timeouts from ctx.deadline, optional
// basic auth or bearer token) and parsed by ParseExposition.
//
// Every scraped sample gets `job` and `instance` labels; a scraped label of the same name is
// kept as `exported_<name>` (Prometheus' honor_labels: false), or wins with honor_labels.
// Also emitted: scrape_samples_scraped and scrape_duration_seconds. A transport error, a
// non-200 status, more samples than sample_limit (then no sample is kept, as in Prometheus)
// or bad lines (the good ones are kept) make Collect return an error, so
// vigil_collector_up{collector="scrape"} is 0. Credentials are never logged or exported.
// Thread-compatible: the scheduler never runs one instance concurrently.
#pragma once

#include <memory>
#include <string>

#include "collectors/collector.h"

namespace httplib {
class Client;
}

namespace vigil {

struct ScrapeConfig {
  std::string name;
  std::string scheme_host_port;   // "http://127.0.0.1:8080"
  std::string path = "/metrics";  // with the query, if any
  std::string url;                // as configured, for messages
  std::string job;                // default: the name
  std::string instance;           // default: host:port
  std::size_t sample_limit = 0;   // 0: no limit
  bool honor_labels = false;
  std::string username, password;  // basic auth when username is set
  std::string bearer_token;
};

class ScrapeCollector final : public Collector {
 public:
  explicit ScrapeCollector(ScrapeConfig config);
  ~ScrapeCollector() override;
  Status Collect(const CollectContext& ctx, MetricSink& sink) override;

 private:
  Status Scrape(const CollectContext& ctx, MetricSink& sink, std::size_t& scraped);
  Labels TargetLabels(Labels scraped) const;

  ScrapeConfig config_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace vigil
