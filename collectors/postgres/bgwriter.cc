#include <array>

#include "collectors/postgres/views.h"

namespace vigil::collectors {

Status CollectBgwriter(QueryRunner& db, const ServerInfo& info, MetricSink& sink) {
  // PG17 moved the checkpoint columns to pg_stat_checkpointer and dropped the backend ones.
  std::string sql =
      info.version_num >= 170000
          ? "SELECT c.num_timed AS checkpoints_timed, c.num_requested AS checkpoints_req, "
            "c.write_time AS checkpoint_write_time, c.sync_time AS checkpoint_sync_time, "
            "c.buffers_written AS buffers_checkpoint, b.buffers_clean, b.maxwritten_clean, "
            "NULL AS buffers_backend, NULL AS buffers_backend_fsync, b.buffers_alloc, "
            "extract(epoch from b.stats_reset) AS stats_reset "
            "FROM pg_stat_bgwriter b, pg_stat_checkpointer c"
          : "SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, "
            "checkpoint_sync_time, buffers_checkpoint, buffers_clean, maxwritten_clean, "
            "buffers_backend, buffers_backend_fsync, buffers_alloc, "
            "extract(epoch from stats_reset) AS stats_reset FROM pg_stat_bgwriter";
  Result<QueryResult> r = db.Query(sql);
  if (!r.ok()) return r.status().WithContext("pg_stat_bgwriter");
  if (r->rows.empty()) return Status::Ok();
  constexpr std::array<std::pair<const char*, const char*>, 11> kColumns{{
      {"checkpoints_timed", "Number of scheduled checkpoints that have been performed"},
      {"checkpoints_req", "Number of requested checkpoints that have been performed"},
      {"checkpoint_write_time", "Time spent writing checkpoint files to disk, in milliseconds"},
      {"checkpoint_sync_time",
       "Time spent synchronizing checkpoint files to disk, in milliseconds"},
      {"buffers_checkpoint", "Number of buffers written during checkpoints"},
      {"buffers_clean", "Number of buffers written by the background writer"},
      {"maxwritten_clean",
       "Times the background writer stopped a cleaning scan (too many buffers)"},
      {"buffers_backend", "Number of buffers written directly by a backend"},
      {"buffers_backend_fsync", "Times a backend had to execute its own fsync call"},
      {"buffers_alloc", "Number of buffers allocated"},
      {"stats_reset", "Time at which these statistics were last reset"},
  }};
  for (const auto& [column, help] : kColumns) {
    if (std::optional<double> v = r->Number(0, column)) {
      sink.Counter(std::string("pg_stat_bgwriter_") + column + "_total", help, {}, *v);
    }
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
