// HttpSender: POSTs encoded WriteRequests to one remote write URL with the remote write 1.0
// headers, basic auth or a bearer token, TLS (https) and a timeout. Keeps one keep-alive
// connection per concurrent caller. Credentials are never logged or put into errors.
// Thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "agent/base/mutex.h"
#include "agent/remote/queue_manager.h"
#include "agent/remote/remote_config.h"

namespace httplib {
class ClientImpl;
}

namespace vigil::remote {

class HttpSender final : public WriteSender {
 public:
  // REQUIRES: ParseRemoteUrl(config.url) succeeds.
  explicit HttpSender(const RemoteWriteConfig& config);
  ~HttpSender() override;
  SendResult Send(const std::string& body) override;

 private:
  std::unique_ptr<httplib::ClientImpl> NewClient() const;

  RemoteWriteConfig config_;
  ParsedUrl url_;
  Mutex mu_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle_ GUARDED_BY(mu_);
};

// Parses a Retry-After value in seconds ("120"); negative when absent or not a number.
Duration ParseRetryAfter(const std::string& value);

}  // namespace vigil::remote
