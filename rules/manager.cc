#include "rules/manager.h"

#include <glob.h>

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

std::vector<AlertNotification> RuleManager::EvalDue(TimestampMs now, const promql::Querier& querier,
                                                    const promql::Engine& engine, Appender& out) {
  std::vector<AlertNotification> all;
  for (auto& g : groups_) {
    auto last = g->last_evaluation();
    if (last && now - *last < g->interval_ms()) continue;
    auto sent = g->Eval(now, querier, engine, out);
    all.insert(all.end(), sent.begin(), sent.end());
  }
  return all;
}

}  // namespace vigil::rules
