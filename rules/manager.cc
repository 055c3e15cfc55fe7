#include "rules/manager.h"

#include <glob.h>

#include <algorithm>
#include <iterator>

#include "rules/promql/parser.h"

namespace vigil::rules {

Status RuleManager::Update(const std::vector<std::string>& file_patterns) {
  std::vector<std::string> files;
  for (const auto& pattern : file_patterns) {
    glob_t g{};
    int rc = glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) files.push_back(g.gl_pathv[i]);
    }
    globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH) return Status::InvalidArgument("bad pattern: " + pattern);
  }
  std::vector<std::unique_ptr<Group>> groups;
  for (const auto& f : files) {
    auto parsed = LoadRuleFile(f);
    if (!parsed.ok()) return parsed.status();
    auto built = Group::FromFile(*parsed, options_);
    if (!built.ok()) return built.status();
    for (auto& g : *built) groups.push_back(std::move(g));
  }
  for (auto& g : groups) {
    for (const auto& old : groups_) {
      if (old->file() == g->file() && old->name() == g->name()) {
        g->CopyStateFrom(*old);
        break;
      }
    }
  }
  files_ = std::move(files);
  groups_ = std::move(groups);
  return Status::Ok();
}

RuleManager::EvalResult RuleManager::EvalDue(TimestampMs now, const promql::Querier& querier,
                                             const promql::Engine& engine, Appender& out) {
  EvalResult result;
  for (auto& g : groups_) {
    std::optional<TimestampMs> ts = DueAt(*g, now);
    if (!ts) continue;
    std::vector<AlertNotification> sent = g->Eval(*ts, querier, engine, out);
    result.alerts.insert(result.alerts.end(), std::make_move_iterator(sent.begin()),
                         std::make_move_iterator(sent.end()));
    ++result.groups_evaluated;
  }
  return result;
}

std::optional<TimestampMs> RuleManager::DueAt(const Group& g, TimestampMs now) const {
  std::int64_t iv = g.interval_ms();
  TimestampMs ts = now / iv * iv;
  if (g.last_evaluation() && *g.last_evaluation() >= ts) return std::nullopt;
  if (ts < not_before_) return std::nullopt;
  return ts;
}

TimestampMs RuleManager::NextDue(TimestampMs now) const {
  TimestampMs next = now + 1000;
  for (const auto& g : groups_) {
    std::int64_t iv = g->interval_ms();
    next = std::min(next, (now / iv + 1) * iv);
  }
  return next;
}

std::int64_t RuleManager::MaxReachMs() const {
  std::int64_t reach = 0;
  for (const auto& g : groups_) {
    for (const auto& r : g->rules()) {
      Result<promql::ExprPtr> e = promql::ParseExpr(r->Query());
      if (e.ok()) reach = std::max(reach, promql::MaxReachMs(**e));
    }
  }
  return reach;
}

}  // namespace vigil::rules
