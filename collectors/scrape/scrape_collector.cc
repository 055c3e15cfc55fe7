#include "collectors/scrape/scrape_collector.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include "agent/base/log.h"
#include "collectors/scrape/text_parser.h"

namespace vigil {

ScrapeCollector::ScrapeCollector(ScrapeConfig config)
    : config_(std::move(config)),
      client_(std::make_unique<httplib::Client>(config_.scheme_host_port)) {
  client_->set_tcp_nodelay(true);
  client_->set_keep_alive(true);
  client_->set_decompress(true);
  if (!config_.username.empty()) client_->set_basic_auth(config_.username, config_.password);
  if (!config_.bearer_token.empty()) client_->set_bearer_token_auth(config_.bearer_token);
}

ScrapeCollector::~ScrapeCollector() = default;

Labels ScrapeCollector::TargetLabels(Labels labels) const {
  for (const auto& [name, value] :
       {std::pair<std::string_view, std::string_view>{"job", config_.job},
        {"instance", config_.instance}}) {
    if (labels.Has(name)) {
      if (config_.honor_labels) continue;
      // Prometheus: the scraped value moves to exported_<name> (again, while that is taken).
      std::string moved = "exported_" + std::string(name);
      while (labels.Has(moved)) moved = "exported_" + moved;
      labels.Set(moved, labels.Get(name));
    }
    labels.Set(name, value);
  }
  return labels;
}

Status ScrapeCollector::Scrape(const CollectContext& ctx, MetricSink& sink, std::size_t& scraped) {
  std::string where = RedactSecrets(config_.url);
  TimestampMs left = ctx.deadline - SystemClock::Get().Now();
  if (left <= 0) return Status::DeadlineExceeded("GET " + where + ": deadline passed");
  time_t sec = static_cast<time_t>(left / 1000);
  time_t usec = static_cast<time_t>((left % 1000) * 1000);
  client_->set_connection_timeout(sec, usec);
  client_->set_read_timeout(sec, usec);
  client_->set_write_timeout(sec, usec);
  httplib::Headers headers{{"Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1"},
                           {"Accept-Encoding", "gzip"}};
  httplib::Result res = client_->Get(config_.path, headers);
  if (!res) {
    client_->stop();  // drop a half-open keep-alive connection
    return Status::Unavailable("GET " + where + ": " + httplib::to_string(res.error()));
  }
  if (res->status != 200) {
    return Status::Unavailable("GET " + where + ": HTTP status " + std::to_string(res->status));
  }
  ParsedExposition parsed = ParseExposition(res->body);
  scraped = parsed.samples;
  if (config_.sample_limit > 0 && parsed.samples > config_.sample_limit) {
    return Status::Unavailable("GET " + where + ": " + std::to_string(parsed.samples) +
                               " samples exceed sample_limit " +
                               std::to_string(config_.sample_limit));
  }
  for (MetricFamily& family : parsed.families) {
    for (Sample& s : family.samples) {
      s.labels = TargetLabels(std::move(s.labels));
      sink.Add(family.name, family.help, family.type, std::move(s));
    }
  }
  if (!parsed.errors.empty()) {
    return Status::InvalidArgument("GET " + where + ": " + std::to_string(parsed.errors.size()) +
                                   " bad line(s), first: " + parsed.errors.front().message);
  }
  return Status::Ok();
}

Status ScrapeCollector::Collect(const CollectContext& scheduler_ctx, MetricSink& sink) {
  // Give up a little before the scheduler does, so a hung target still reports its
  // scrape_* samples (the scheduler drops the result of a run that overran its timeout).
  CollectContext ctx = scheduler_ctx;
  ctx.deadline -=
      std::min<TimestampMs>(100, std::max<TimestampMs>(0, (ctx.deadline - ctx.now) / 10));
  auto t0 = std::chrono::steady_clock::now();
  std::size_t scraped = 0;
  Status status = Scrape(ctx, sink, scraped);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Labels target{{"job", config_.job}, {"instance", config_.instance}};
  sink.Gauge("scrape_duration_seconds", "Duration of the scrape", target, seconds);
  sink.Gauge("scrape_samples_scraped", "Samples the target exposed", target,
             static_cast<double>(scraped));
  return status;
}

}  // namespace vigil
