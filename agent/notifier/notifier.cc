#include "agent/notifier/notifier.h"

#include <httplib.h>

#include <algorithm>
#include <ctime>
#include <list>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "agent/base/log.h"
#include "agent/base/mutex.h"
#include "agent/base/thread_name.h"
#include "agent/base/url.h"

namespace vigil {

struct Notifier::Target {
  std::string url;
  std::string scheme_host_port;
  std::string path;  // prefix + /api/v2/alerts
  Mutex mu;
  CondVar cv;
  std::list<AlertNotification> queue GUARDED_BY(mu);
  std::unordered_map<Labels, std::list<AlertNotification>::iterator, LabelsHash> by_labels
      GUARDED_BY(mu);
  bool stop GUARDED_BY(mu) = false;
  std::atomic<std::uint64_t> sent{0}, errors{0}, dropped{0};
  std::thread thread;
};

Status ValidateAlertmanagerUrl(const std::string& url) {
  std::size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  // Messages never repeat userinfo: the URL is shown without it.
  std::string shown = UrlWithoutUserinfo(url);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("invalid Alertmanager URL \"" + shown +
                                   "\": want http:// or https://");
  }
  if (UrlHasUserinfo(url)) {
    // It would be the `alertmanager` label of vigil_notifications_* and in every log line.
    return Status::InvalidArgument("invalid Alertmanager URL \"" + shown +
                                   "\": credentials in the URL are not allowed");
  }
  if (UrlAuthority(url).empty()) {
    return Status::InvalidArgument("invalid Alertmanager URL \"" + shown + "\": no host");
  }
  if (Result<HostPort> hp = ParseAuthority(UrlAuthority(url), 80); !hp.ok()) {
    return Status::InvalidArgument("invalid Alertmanager URL \"" + shown +
                                   "\": " + hp.status().message());
  }
  return Status::Ok();
}

std::string Notifier::BatchJson(const std::vector<AlertNotification>& alerts) {
  nlohmann::json out = nlohmann::json::array();
  for (const AlertNotification& a : alerts) {
    nlohmann::json labels = nlohmann::json::object(), annotations = nlohmann::json::object();
    for (const Label& l : a.labels) labels[l.name] = l.value;
    for (const Label& l : a.annotations) annotations[l.name] = l.value;
    nlohmann::json alert = {{"labels", labels},
                            {"annotations", annotations},
                            {"startsAt", FormatRfc3339(a.starts_at)},
                            {"generatorURL", a.generator_url}};
    if (a.ends_at != 0) alert["endsAt"] = FormatRfc3339(a.ends_at);
    out.push_back(alert);
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Notifier::Notifier(std::vector<std::string> urls, Labels external_labels, NotifierOptions options)
    : external_labels_(std::move(external_labels)), options_(options) {
  for (std::string& url : urls) {
    auto t = std::make_unique<Target>();
    while (!url.empty() && url.back() == '/') url.pop_back();
    t->url = UrlWithoutUserinfo(url);  // the label and log field (validated URLs have none)
    std::size_t host_start = url.find("://") + 3;
    std::size_t path_start = url.find('/', host_start);
    t->scheme_host_port = url.substr(0, path_start);
    t->path = (path_start == std::string::npos ? "" : url.substr(path_start)) + "/api/v2/alerts";
    Target* raw = t.get();
    t->thread = std::thread([this, raw] {
      SetCurrentThreadName("vigil-notify");
      Run(raw);
    });
    targets_.push_back(std::move(t));
  }
}

Notifier::~Notifier() { Stop(); }

void Notifier::Stop() {
  for (auto& t : targets_) {
    {
      MutexLock lock(t->mu);
      t->stop = true;
    }
    t->cv.NotifyAll();
  }
  for (auto& t : targets_) {
    if (t->thread.joinable()) t->thread.join();
    std::size_t left;
    {
      MutexLock lock(t->mu);  // uncontended: the sender has stopped
      left = t->queue.size();
    }
    if (left > 0) {
      LogWarn("alerts still queued at stop were not delivered",
              {{"alertmanager", t->url}, {"count", std::to_string(left)}});
    }
  }
}

void Notifier::Send(const std::vector<AlertNotification>& alerts) {
  if (alerts.empty()) return;
  for (auto& t : targets_) {
    MutexLock lock(t->mu);
    for (AlertNotification a : alerts) {
      for (const Label& l : external_labels_) {
        if (!a.labels.Has(l.name)) a.labels.Set(l.name, l.value);
      }
      if (auto it = t->by_labels.find(a.labels); it != t->by_labels.end()) {
        *it->second = std::move(a);  // the newer state replaces the queued one
        continue;
      }
      if (t->queue.size() >= options_.queue_capacity) {
        t->by_labels.erase(t->queue.front().labels);
        t->queue.pop_front();
        ++t->dropped;
      }
      t->queue.push_back(std::move(a));
      t->by_labels[t->queue.back().labels] = std::prev(t->queue.end());
    }
    t->cv.NotifyAll();
  }
  ++generation_;
}

void Notifier::Run(Target* t) {
  httplib::Client client(t->scheme_host_port);
  client.set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(options_.timeout));
  client.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(options_.timeout));
  client.set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(options_.timeout));
  client.set_tcp_nodelay(true);
  Duration backoff(0);
  std::string last_error;
  MutexLock lock(t->mu);
  for (;;) {
    if (backoff.count() > 0) {
      t->cv.WaitFor(lock, backoff, [&]() REQUIRES(t->mu) { return t->stop; });
    } else {
      t->cv.Wait(lock, [&]() REQUIRES(t->mu) { return t->stop || !t->queue.empty(); });
    }
    if (t->stop) return;
    if (t->queue.empty()) {
      backoff = Duration(0);
      continue;
    }
    std::vector<AlertNotification> batch;
    for (auto it = t->queue.begin(); it != t->queue.end() && batch.size() < options_.batch_size;
         ++it) {
      batch.push_back(*it);
    }
    lock.Unlock();
    auto res = client.Post(t->path.c_str(), BatchJson(batch), "application/json");
    bool ok = res && res->status / 100 == 2;
    lock.Lock();
    if (ok) {
      // Remove what was sent unless a newer state replaced it meanwhile.
      for (const AlertNotification& a : batch) {
        auto it = t->by_labels.find(a.labels);
        if (it != t->by_labels.end() && it->second->starts_at == a.starts_at &&
            it->second->ends_at == a.ends_at && it->second->annotations == a.annotations) {
          t->queue.erase(it->second);
          t->by_labels.erase(it);
        }
      }
      t->sent += batch.size();
      backoff = Duration(0);
      if (!last_error.empty()) {
        LogInfo("alertmanager reachable again", {{"alertmanager", t->url}});
        last_error.clear();
      }
    } else {
      ++t->errors;
      std::string err =
          res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error());
      if (err != last_error) {
        LogWarn(
            "sending alerts failed; they stay queued",
            {{"alertmanager", t->url}, {"err", err}, {"queued", std::to_string(t->queue.size())}});
        last_error = err;
      }
      backoff = std::min(options_.max_backoff, backoff.count() ? backoff * 2 : Duration(1000));
    }
    ++generation_;
  }
}

std::size_t Notifier::pending() const {
  std::size_t n = 0;
  for (const auto& t : targets_) {
    MutexLock lock(t->mu);
    n += t->queue.size();
  }
  return n;
}

void Notifier::Collect(MetricSink& sink) const {
  for (const auto& t : targets_) {
    Labels l{{"alertmanager", t->url}};
    sink.Counter("vigil_notifications_sent_total", "Alerts delivered to the Alertmanager.", l,
                 static_cast<double>(t->sent.load()));
    sink.Counter("vigil_notifications_errors_total", "Failed attempts to send a batch of alerts.",
                 l, static_cast<double>(t->errors.load()));
    sink.Counter("vigil_notifications_dropped_total",
                 "Alerts dropped because the Alertmanager's queue was full.", l,
                 static_cast<double>(t->dropped.load()));
    std::size_t queued;
    {
      MutexLock lock(t->mu);
      queued = t->queue.size();
    }
    sink.Gauge("vigil_notifications_queue_length", "Alerts waiting to be sent.", l,
               static_cast<double>(queued));
  }
}

}  // namespace vigil
