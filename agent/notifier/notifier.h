// Notifier: delivers alerts to every configured Alertmanager (POST /api/v2/alerts).
//
// Each Alertmanager has its own bounded queue and sender thread, so an HA pair gets every
// alert even while one member is down. Alerts are sent in batches of at most 64. A batch that
// fails stays queued and is retried with backoff (1 s doubling to 10 s) until that
// Alertmanager answers; a queued alert with the same labels as a newer one is replaced by it
// (Alertmanager only needs the latest state). When a queue is full the oldest alerts are
// dropped and counted. External labels are added to every alert (alert labels win).
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/base/alert_notification.h"
#include "agent/base/clock.h"
#include "agent/base/labels.h"
#include "agent/base/metric.h"
#include "agent/base/status.h"

namespace vigil {

struct NotifierOptions {
  std::size_t queue_capacity = 10000;
  std::size_t batch_size = 64;
  Duration timeout{10000};
  Duration max_backoff{10000};
};

class Notifier {
 public:
  // `urls`: Alertmanager base URLs ("http://127.0.0.1:9093"). REQUIRES: each passes
  // ValidateAlertmanagerUrl.
  Notifier(std::vector<std::string> urls, Labels external_labels, NotifierOptions options = {});
  ~Notifier();  // Stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Send(const std::vector<AlertNotification>& alerts);
  // Stops the senders; what is still queued is lost (logged).
  void Stop();
  // vigil_notifications_{sent,errors,dropped}_total and _queue_length, per Alertmanager.
  void Collect(MetricSink& sink) const;
  std::uint64_t generation() const { return generation_.load(); }
  // Alerts queued for any Alertmanager.
  std::size_t pending() const;

  // The JSON body Alertmanager v2 expects for a batch.
  static std::string BatchJson(const std::vector<AlertNotification>& alerts);

 private:
  struct Target;
  void Run(Target* t);

  std::vector<std::unique_ptr<Target>> targets_;
  Labels external_labels_;
  NotifierOptions options_;
  std::atomic<std::uint64_t> generation_{0};
};

// OK for "http://host:port[/prefix]" or https.
Status ValidateAlertmanagerUrl(const std::string& url);

}  // namespace vigil
