#include "collectors/postgres/postgres_collector.h"

#include <algorithm>

#include "agent/base/log.h"
#include "collectors/postgres/statements.h"

namespace vigil::collectors {
namespace {

void ViewResult(MetricSink& sink, const char* view, const Status& s, int* failures) {
  sink.Gauge("vigil_pg_view_up", "1 when the last read of this view succeeded", {{"view", view}},
             s.ok() ? 1 : 0);
  if (!s.ok()) {
    ++*failures;
    LogDebug("postgres view failed", {{"view", view}, {"err", s.message()}});
  }
}

}  // namespace

PostgresCollector::PostgresCollector(PostgresConfig config)
    : config_(std::move(config)), tracker_(config_.statements_options) {}

Status PostgresCollector::EnsureConnected(const CollectContext& ctx) {
  TimestampMs now = SystemClock::Get().Now();
  if (main_.connected() && now - main_.connected_at() > config_.max_connection_age.count()) {
    main_.Close();  // recycle long-lived connections
  }
  if (main_.connected()) return Status::Ok();
  PgConnectOptions options = config_.connect;
  TimestampMs left = std::max<TimestampMs>(1000, ctx.deadline - now);
  options.connect_timeout = std::min(options.connect_timeout, Duration(left));
  options.statement_timeout = Duration(left);
  Status s = main_.Connect(options);
  if (!s.ok()) return s;
  Result<QueryResult> db = main_.Query("SELECT current_database() AS db");
  main_db_ = db.ok() && !db->rows.empty() ? std::string(db->Text(0, "db")) : "";
  return Status::Ok();
}

Status PostgresCollector::Collect(const CollectContext& ctx, MetricSink& sink) {
  sink.SetCommonLabels(Labels{{"target", config_.name}});
  Status connected = EnsureConnected(ctx);
  if (!connected.ok()) {
    sink.Gauge("pg_up", "Whether the last scrape could connect to PostgreSQL", {}, 0);
    if (connected.message() != last_error_) {
      LogWarn("postgres unreachable", {{"target", config_.name}, {"err", connected.message()}});
      last_error_ = connected.message();
    }
    return connected;
  }
  Result<ServerInfo> info = ProbeServer(main_, sink);
  if (!info.ok()) {
    main_.Close();
    sink.Gauge("pg_up", "Whether the last scrape could connect to PostgreSQL", {}, 0);
    return info.status();
  }
  if (!last_error_.empty()) {
    LogInfo("postgres reachable again", {{"target", config_.name}});
    last_error_.clear();
  }
  sink.Gauge("pg_up", "Whether the last scrape could connect to PostgreSQL", {}, 1);

  int failures = 0, views = 0;
  struct View {
    const char* name;
    Status (*fn)(QueryRunner&, const ServerInfo&, MetricSink&);
  };
  constexpr View kViews[] = {
      {"pg_settings", CollectSettings},
      {"pg_stat_database", CollectStatDatabase},
      {"pg_stat_activity", CollectStatActivity},
      {"pg_locks", CollectLocks},
      {"pg_stat_bgwriter", CollectBgwriter},
      {"replication", CollectReplication},
      {"wraparound", CollectWraparound},
      {"xmin_horizon", CollectXminHorizon},
      {"pg_replication_slots", CollectReplicationSlots},
      {"pg_stat_wal", CollectStatWal},
      {"pg_ls_waldir", CollectWalDir},
      {"pg_stat_archiver", CollectStatArchiver},
  };
  for (const View& v : kViews) {
    if (SystemClock::Get().Now() > ctx.deadline) {
      return Status::DeadlineExceeded("postgres collection ran out of time at " +
                                      std::string(v.name));
    }
    ViewResult(sink, v.name, v.fn(main_, *info, sink), &failures);
    ++views;
  }
  ViewResult(sink, "pg_stat_activity_top",
             CollectActivityTop(main_, *info, config_.activity_top_n, sink), &failures);
  ++views;
  CollectDatabases(ctx, *info, sink, &failures);
  views += 2;

  sink.Gauge("vigil_pg_view_available", "1 when the server offers this view",
             {{"view", "pg_stat_statements"}}, info->has_statements ? 1 : 0);
  if (config_.statements && info->has_statements) {
    TimestampMs now = SystemClock::Get().Now();
    if (statements_read_at_ == 0 ||
        now - statements_read_at_ >= config_.statements_interval.count() - 500) {
      Status s = ReadStatements(main_, *info, now, tracker_, sink);
      ViewResult(sink, "pg_stat_statements", s, &failures);
      ++views;
      if (s.ok()) statements_read_at_ = now;
    }
    tracker_.Emit(sink);
    sink.Attach("statements", tracker_.DetailsJson());
  }
  if (failures == views) return Status::Unavailable("every PostgreSQL view failed");
  return Status::Ok();
}

void PostgresCollector::CollectDatabases(const CollectContext& ctx, const ServerInfo& info,
                                         MetricSink& sink, int* failures) {
  std::vector<std::string> databases = config_.databases;
  if (config_.auto_databases) {
    databases.clear();
    Result<QueryResult> r = main_.Query(
        "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
        "AND has_database_privilege(datname, 'CONNECT') ORDER BY datname");
    if (r.ok()) {
      for (std::size_t i = 0; i < r->rows.size(); ++i)
        databases.emplace_back(r->Text(i, "datname"));
    }
  }
  if (databases.empty()) databases.push_back(main_db_);
  // Two views per database, each failing only itself; a failed connection fails both.
  Status result = Status::Ok(), freeze_result = Status::Ok();
  auto read = [&](QueryRunner& conn) {
    if (Status s = CollectTableUsage(conn, info, config_.table_limit, sink); !s.ok()) result = s;
    if (Status s = CollectTableFreezeAge(conn, info, config_.freeze_table_limit, sink); !s.ok()) {
      freeze_result = s;
    }
  };
  std::size_t pooled = 0;
  for (const std::string& db : databases) {
    if (SystemClock::Get().Now() > ctx.deadline) break;
    if (db == main_db_) {
      read(main_);
      continue;
    }
    std::unique_ptr<PgConnection>& conn = db_pool_[db];
    bool keep = pooled < static_cast<std::size_t>(config_.max_db_connections);
    if (!conn) conn = std::make_unique<PgConnection>();
    if (!conn->connected()) {
      PgConnectOptions options = config_.connect;
      options.dbname = db;
      TimestampMs left = std::max<TimestampMs>(1000, ctx.deadline - SystemClock::Get().Now());
      options.connect_timeout = std::min(options.connect_timeout, Duration(left));
      options.statement_timeout = Duration(left);
      if (Status s = conn->Connect(options); !s.ok()) {
        result = s;
        freeze_result = s;
        db_pool_.erase(db);
        continue;
      }
    }
    read(*conn);
    if (keep) {
      ++pooled;
    } else {
      db_pool_.erase(db);  // past the bound: closed right away
    }
  }
  // Drop pooled connections of databases that went away.
  for (auto it = db_pool_.begin(); it != db_pool_.end();) {
    it = std::find(databases.begin(), databases.end(), it->first) == databases.end()
             ? db_pool_.erase(it)
             : std::next(it);
  }
  ViewResult(sink, "table_usage", result, failures);
  ViewResult(sink, "table_freeze_age", freeze_result, failures);
}

}  // namespace vigil::collectors
