#include "collectors/scrape/scrape_collector.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <vector>

#include "agent/base/log.h"
#include "agent/base/text_parser.h"

namespace vigil::collectors {

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

Status ScrapeCollector::Fetch(const CollectContext& ctx, std::vector<char>& body,
                              Outcome& outcome) {
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
  const std::size_t limit = config_.body_size_limit;
  int status = 0;
  bool too_large = false;
  // cpp-httplib hands the receiver the body as it arrives, already decompressed (gzip,
  // deflate, br) chunk by chunk; returning false stops reading and inflating at once.
  httplib::Result res = client_->Get(
      config_.path, headers,
      [&](const httplib::Response& r) {
        status = r.status;
        if (status != 200) return false;  // the body of an error is not read
        if (r.has_header("Content-Length") && !r.has_header("Content-Encoding")) {
          std::string declared = r.get_header_value("Content-Length");
          std::uint64_t length = 0;
          auto [end, ec] =
              std::from_chars(declared.data(), declared.data() + declared.size(), length);
          if (ec == std::errc::result_out_of_range || (ec == std::errc() && length > limit)) {
            too_large = true;  // refused before a byte of the body is read
            return false;
          }
        }
        return true;
      },
      [&](const char* data, std::size_t n) {
        if (n > limit - body.size()) {
          too_large = true;
          return false;
        }
        if (body.size() + n > body.capacity()) {
          // Grow by doubling, but never past the limit (vector's reserve is exact).
          body.reserve(std::min(limit, std::max(body.size() + n, 2 * body.capacity())));
        }
        body.insert(body.end(), data, data + n);
        peak_body_capacity_ = std::max(peak_body_capacity_, body.capacity());
        return true;
      });
  outcome.body_bytes = static_cast<double>(body.size());
  if (too_large) {
    client_->stop();  // the rest of the body is still on the connection
    outcome.body_bytes = -1;
    outcome.over_limit = true;
    return Status::ResourceExhausted("GET " + where + ": body_size_limit " + std::to_string(limit) +
                                     " exceeded: the body (decompressed) is larger");
  }
  if (status != 0 && status != 200) {
    client_->stop();
    return Status::Unavailable("GET " + where + ": HTTP status " + std::to_string(status));
  }
  if (!res) {
    client_->stop();  // drop a half-open keep-alive connection
    return Status::Unavailable("GET " + where + ": " + httplib::to_string(res.error()));
  }
  return Status::Ok();
}

Status ScrapeCollector::Scrape(const CollectContext& ctx, MetricSink& sink, Outcome& outcome) {
  std::vector<char> body;
  Status fetched = Fetch(ctx, body, outcome);
  if (!fetched.ok()) return fetched;
  std::string where = RedactSecrets(config_.url);
  ExpositionLimits limits{config_.sample_limit, config_.label_limit,
                          config_.label_name_length_limit, config_.label_value_length_limit};
  ParsedExposition parsed = ParseExposition(std::string_view(body.data(), body.size()), limits);
  body = std::vector<char>();  // free it before the samples are copied into the sink
  outcome.samples = parsed.samples;
  if (!parsed.limit_error.empty()) {
    outcome.over_limit = true;
    return Status::ResourceExhausted("GET " + where + ": " + parsed.limit_error);
  }
  // job and instance count towards label_limit too (as in Prometheus); check every sample
  // before the first reaches the sink, so a failed scrape keeps none.
  for (MetricFamily& family : parsed.families) {
    for (Sample& s : family.samples) {
      s.labels = TargetLabels(std::move(s.labels));
      if (s.labels.size() + 1 > config_.label_limit) {
        outcome.over_limit = true;
        return Status::ResourceExhausted(
            "GET " + where + ": label_limit " + std::to_string(config_.label_limit) +
            " exceeded: " + std::to_string(s.labels.size() + 1) +
            " labels with the metric name, job and instance (metric \"" +
            family.name.substr(0, 50) + "\")");
      }
    }
  }
  for (MetricFamily& family : parsed.families) {
    for (Sample& s : family.samples) {
      sink.Add(family.name, family.help, family.type, std::move(s));
    }
  }
  if (parsed.error_count > 0) {
    return Status::InvalidArgument("GET " + where + ": " + std::to_string(parsed.error_count) +
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
  Outcome outcome;
  Status status = Scrape(ctx, sink, outcome);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (outcome.over_limit && !over_limit_) {
    LogWarn("scrape over a limit: the target's samples are dropped until it is back within",
            {{"target", config_.name}, {"err", status.message()}});
  }
  over_limit_ = outcome.over_limit;
  Labels target{{"job", config_.job}, {"instance", config_.instance}};
  sink.Gauge("scrape_duration_seconds", "Duration of the scrape", target, seconds);
  sink.Gauge("scrape_samples_scraped", "Samples the target exposed", target,
             static_cast<double>(outcome.samples));
  sink.Gauge("scrape_body_size_bytes",
             "Decompressed size of the scraped body; -1 when over body_size_limit", target,
             outcome.body_bytes);
  return status;
}

}  // namespace vigil::collectors
