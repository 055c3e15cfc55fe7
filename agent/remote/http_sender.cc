#include "agent/remote/http_sender.h"

#include <httplib.h>

#include "agent/base/mutex.h"
#include "agent/core/version.h"

namespace vigil::remote {

Duration ParseRetryAfter(const std::string& value) {
  if (value.empty() || value.size() > 9 ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    return Duration(-1);
  }
  return Duration(std::stoll(value) * 1000);
}

HttpSender::HttpSender(const RemoteWriteConfig& config)
    : config_(config), url_(ParseRemoteUrl(config.url).value()) {}

HttpSender::~HttpSender() = default;

std::unique_ptr<httplib::ClientImpl> HttpSender::NewClient() const {
  std::unique_ptr<httplib::ClientImpl> c;
  if (url_.scheme == "https") {
    std::unique_ptr<httplib::SSLClient> tls;
    if (!config_.tls.cert_file.empty()) {
      tls = std::make_unique<httplib::SSLClient>(url_.host, url_.port, config_.tls.cert_file,
                                                 config_.tls.key_file);
    } else {
      tls = std::make_unique<httplib::SSLClient>(url_.host, url_.port);
    }
    if (!config_.tls.ca_file.empty()) tls->set_ca_cert_path(config_.tls.ca_file);
    tls->enable_server_certificate_verification(!config_.tls.insecure_skip_verify);
    c = std::move(tls);
  } else {
    c = std::make_unique<httplib::ClientImpl>(url_.host, url_.port);
  }
  auto ms = config_.timeout.count();
  c->set_connection_timeout(ms / 1000, (ms % 1000) * 1000);
  c->set_read_timeout(ms / 1000, (ms % 1000) * 1000);
  c->set_write_timeout(ms / 1000, (ms % 1000) * 1000);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  if (!config_.basic_auth_username.empty()) {
    c->set_basic_auth(config_.basic_auth_username, config_.basic_auth_password);
  } else if (!config_.bearer_token.empty()) {
    c->set_bearer_token_auth(config_.bearer_token);
  }
  return c;
}

SendResult HttpSender::Send(const std::string& body) {
  std::unique_ptr<httplib::ClientImpl> client;
  {
    MutexLock lock(mu_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!client) client = NewClient();
  httplib::Headers headers = {
      {"Content-Encoding", "snappy"},
      {"X-Prometheus-Remote-Write-Version", "0.1.0"},
      {"User-Agent", std::string("vigil/") + kVigilVersion},
  };
  httplib::Result res =
      client->Post(url_.path, headers, body.data(), body.size(), "application/x-protobuf");
  SendResult r;
  if (!res) {
    r.error = httplib::to_string(res.error());
    // A broken connection is not reused.
    return r;
  }
  r.status = res->status;
  if (r.status / 100 != 2) {
    r.error = res->body.substr(0, 256);
    while (!r.error.empty() && (r.error.back() == '\n' || r.error.back() == '\r')) {
      r.error.pop_back();
    }
    r.retry_after = ParseRetryAfter(res->get_header_value("Retry-After"));
  }
  MutexLock lock(mu_);
  idle_.push_back(std::move(client));
  return r;
}

}  // namespace vigil::remote
