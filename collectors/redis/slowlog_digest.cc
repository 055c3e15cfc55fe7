#include "collectors/redis/slowlog_digest.h"

#include <algorithm>

namespace vigil::collectors {

void SlowlogDigest::Update(const std::string& run_id, const std::vector<SlowlogEntry>& entries) {
  if (run_id != run_id_) {
    run_id_ = run_id;
    watermark_.reset();
  }
  if (entries.empty()) return;
  std::vector<const SlowlogEntry*> fresh;
  for (const SlowlogEntry& e : entries) {
    if (!watermark_ || e.id > *watermark_) fresh.push_back(&e);
  }
  if (fresh.empty()) return;
  std::sort(fresh.begin(), fresh.end(),
            [](const SlowlogEntry* a, const SlowlogEntry* b) { return a->id < b->id; });
  // Ids are consecutive on the server; a gap after the watermark means entries were rotated
  // out of the slowlog before we read them.
  if (watermark_ && fresh.front()->id > *watermark_ + 1) {
    missed_ += static_cast<double>(fresh.front()->id - *watermark_ - 1);
  }
  for (const SlowlogEntry* e : fresh) {
    Totals& t = by_command_[e->cmd];
    t.count += 1;
    t.duration_seconds += static_cast<double>(e->duration_us) / 1e6;
  }
  watermark_ = fresh.back()->id;
  last_duration_seconds_ = static_cast<double>(fresh.back()->duration_us) / 1e6;
}

}  // namespace vigil::collectors
