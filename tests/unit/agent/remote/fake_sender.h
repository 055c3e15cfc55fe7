// A scripted WriteSender for the queue tests: answers from a list (then 200), records every
// body, and can hold senders until released.
#pragma once

#include <snappy.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "agent/remote/queue_manager.h"
#include "agent/remote/remote.pb.h"

namespace vigil::remote::testing {

class FakeSender final : public WriteSender {
 public:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<SendResult> script;  // answers in order; 200 when empty
    std::vector<std::string> bodies;
    std::vector<std::chrono::steady_clock::time_point> times;
    bool hold = false;
    int in_send = 0;
    int max_in_send = 0;
    Duration delay{0};
  };
  explicit FakeSender(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  SendResult Send(const std::string& body) override {
    std::unique_lock lock(s_->mu);
    s_->bodies.push_back(body);
    s_->times.push_back(std::chrono::steady_clock::now());
    ++s_->in_send;
    s_->max_in_send = std::max(s_->max_in_send, s_->in_send);
    s_->cv.wait(lock, [&] { return !s_->hold; });
    SendResult r{200, "", Duration(-1)};
    if (!s_->script.empty()) {
      r = s_->script.front();
      s_->script.pop_front();
    }
    Duration delay = s_->delay;
    lock.unlock();
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    lock.lock();
    --s_->in_send;
    return r;
  }

 private:
  std::shared_ptr<Shared> s_;
};

inline prompb::WriteRequest Decode(const std::string& body) {
  std::string raw;
  REQUIRE(snappy::Uncompress(body.data(), body.size(), &raw));
  prompb::WriteRequest req;
  REQUIRE(req.ParseFromString(raw));
  return req;
}

inline std::shared_ptr<const SeriesRef> Series(const Labels& l) {
  auto r = std::make_shared<SeriesRef>();
  r->labels = l;
  r->hash = l.Hash();
  return r;
}

// Waits (real time, bounded) until pred() holds.
template <typename Pred>
bool Eventually(Pred pred, Duration timeout = Duration(5000)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

}  // namespace vigil::remote::testing
