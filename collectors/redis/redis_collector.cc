#include "collectors/redis/redis_collector.h"

#include <hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>

#include "agent/base/log.h"
#include "collectors/redis/redis_info.h"

namespace vigil::collectors {
namespace {

// Time left until `deadline` as a timeval; at least 1 ms so hiredis never blocks forever.
timeval Remaining(TimestampMs deadline) {
  TimestampMs left = std::max<TimestampMs>(1, deadline - SystemClock::Get().Now());
  return timeval{static_cast<time_t>(left / 1000), static_cast<suseconds_t>((left % 1000) * 1000)};
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One SLOWLOG GET entry: [id, start, duration_us, [args...], (client addr, client name)].
std::optional<SlowlogEntry> ToEntry(const redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 4) return std::nullopt;
  const redisReply* args = r->element[3];
  for (int i = 0; i < 3; ++i) {
    if (r->element[i]->type != REDIS_REPLY_INTEGER) return std::nullopt;
  }
  SlowlogEntry e;
  e.id = r->element[0]->integer;
  e.start_seconds = r->element[1]->integer;
  e.duration_us = r->element[2]->integer;
  // Only the command name is kept: arguments may hold keys or secrets.
  if (args->type == REDIS_REPLY_ARRAY && args->elements > 0 &&
      args->element[0]->type == REDIS_REPLY_STRING) {
    e.cmd = Lower(std::string_view(args->element[0]->str, args->element[0]->len));
  } else {
    e.cmd = "unknown";
  }
  return e;
}

}  // namespace

RedisCollector::RedisCollector(RedisConfig config) : config_(std::move(config)) {}

RedisCollector::~RedisCollector() { Disconnect(); }

void RedisCollector::Disconnect() {
  if (conn_ != nullptr) redisFree(conn_);
  conn_ = nullptr;
}

Status RedisCollector::Connect(TimestampMs deadline) {
  std::string where = config_.host + ":" + std::to_string(config_.port);
  conn_ = redisConnectWithTimeout(config_.host.c_str(), config_.port, Remaining(deadline));
  if (conn_ == nullptr) return Status::Unavailable("connect " + where + ": out of memory");
  if (conn_->err != 0) {
    Status s = Status::Unavailable("connect " + where + ": " + conn_->errstr);
    Disconnect();
    return s;
  }
  if (config_.password.empty()) return Status::Ok();
  redisSetTimeout(conn_, Remaining(deadline));
  ReplyPtr reply;
  if (config_.username.empty()) {
    reply.reset(static_cast<redisReply*>(
        redisCommand(conn_, "AUTH %b", config_.password.data(), config_.password.size())));
  } else {
    reply.reset(static_cast<redisReply*>(
        redisCommand(conn_, "AUTH %b %b", config_.username.data(), config_.username.size(),
                     config_.password.data(), config_.password.size())));
  }
  if (!reply) {
    Status s = Status::Unavailable("AUTH on " + where + ": " + conn_->errstr);
    Disconnect();
    return s;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    // The server's message never repeats the password; redact anyway in case of a quirk.
    Status s = Status::Unavailable("AUTH on " + where + ": " +
                                   RedactSecrets(std::string(reply->str, reply->len)));
    Disconnect();
    return s;
  }
  return Status::Ok();
}

Status RedisCollector::Collect(const CollectContext& scheduler_ctx, MetricSink& sink) {
  // Give up a little before the scheduler does, so a hung server still reports redis_up 0
  // (the scheduler drops the result of a run that overran its timeout).
  CollectContext ctx = scheduler_ctx;
  ctx.deadline -=
      std::min<TimestampMs>(100, std::max<TimestampMs>(0, (ctx.deadline - ctx.now) / 10));
  sink.SetCommonLabels(Labels{{"target", config_.name}});
  Status status = Status::Ok();
  if (conn_ == nullptr) status = Connect(ctx.deadline);
  if (status.ok()) status = CollectConnected(ctx, sink);
  if (!status.ok()) Disconnect();
  sink.Gauge("redis_up", "1 when the Redis server answered INFO", {}, status.ok() ? 1 : 0);
  return status;
}

Status RedisCollector::CollectConnected(const CollectContext& ctx, MetricSink& sink) {
  std::string where = config_.host + ":" + std::to_string(config_.port);
  // Runs a command given as words (no format string, so no argument is ever interpreted).
  auto command = [&](std::vector<std::string> words, Status& error) -> ReplyPtr {
    std::string cmd = words[0] + (words.size() > 1 ? " " + words[1] : "");
    if (SystemClock::Get().Now() >= ctx.deadline) {
      error = Status::DeadlineExceeded(cmd + " on " + where + ": deadline passed");
      return nullptr;
    }
    redisSetTimeout(conn_, Remaining(ctx.deadline));
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const std::string& w : words) {
      argv.push_back(w.data());
      lens.push_back(w.size());
    }
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(conn_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!reply) {
      error = Status::Unavailable(cmd + " on " + where + ": " + conn_->errstr);
    } else if (reply->type == REDIS_REPLY_ERROR) {
      error =
          Status::Unavailable(cmd + " on " + where + ": " + std::string(reply->str, reply->len));
      reply.reset();
    }
    return reply;
  };

  Status error;
  ReplyPtr info_reply = command({"INFO", "ALL"}, error);
  if (!info_reply) return error;
  if (info_reply->type != REDIS_REPLY_STRING && info_reply->type != REDIS_REPLY_STATUS) {
    return Status::Unavailable("INFO on " + where + ": unexpected reply type");
  }
  RedisInfo info = ParseRedisInfo(std::string_view(info_reply->str, info_reply->len));
  info_reply.reset();
  WriteRedisInfoMetrics(info, static_cast<double>(ctx.now) / 1000.0, sink);

  if (!config_.slowlog) return Status::Ok();
  ReplyPtr slow = command({"SLOWLOG", "GET", std::to_string(config_.slowlog_max)}, error);
  if (!slow) return error;
  std::vector<SlowlogEntry> entries;
  if (slow->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < slow->elements; ++i) {
      if (auto e = ToEntry(slow->element[i])) entries.push_back(std::move(*e));
    }
  }
  slow.reset();
  slowlog_.Update(std::string(info.Text("run_id")), entries);
  ReplyPtr len = command({"SLOWLOG", "LEN"}, error);
  if (!len) return error;
  if (len->type == REDIS_REPLY_INTEGER) {
    sink.Gauge("redis_slowlog_length", "Entries in the slowlog", {},
               static_cast<double>(len->integer));
  }
  if (auto id = slowlog_.watermark()) {
    sink.Gauge("redis_slowlog_last_id", "Id of the newest slowlog entry", {},
               static_cast<double>(*id));
    sink.Gauge("redis_last_slow_execution_duration_seconds", "Duration of the newest slowlog entry",
               {}, slowlog_.last_duration_seconds());
  }
  for (const auto& [cmd, t] : slowlog_.by_command()) {
    Labels l{{"cmd", cmd}};
    sink.Counter("redis_slowlog_commands_total", "Slowlog entries by command, each counted once", l,
                 t.count);
    sink.Counter("redis_slowlog_commands_duration_seconds_total",
                 "Duration of slowlog entries by command", l, t.duration_seconds);
  }
  sink.Counter("redis_slowlog_missed_entries_total",
               "Slowlog entries rotated out before vigil read them", {}, slowlog_.missed());
  return Status::Ok();
}

}  // namespace vigil::collectors
