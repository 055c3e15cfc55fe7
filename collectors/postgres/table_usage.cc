#include <array>

#include "collectors/postgres/views.h"

namespace vigil::collectors {
namespace {

constexpr std::array<ViewColumn, 19> kTableColumns{{
    {"seq_scan", true, "Number of sequential scans initiated on this table"},
    {"seq_tup_read", true, "Number of live rows fetched by sequential scans"},
    {"idx_scan", true, "Number of index scans initiated on this table"},
    {"idx_tup_fetch", true, "Number of live rows fetched by index scans"},
    {"n_tup_ins", true, "Number of rows inserted"},
    {"n_tup_upd", true, "Number of rows updated"},
    {"n_tup_del", true, "Number of rows deleted"},
    {"n_tup_hot_upd", true, "Number of rows HOT updated"},
    {"n_live_tup", false, "Estimated number of live rows"},
    {"n_dead_tup", false, "Estimated number of dead rows"},
    {"n_mod_since_analyze", false, "Estimated number of rows changed since last analyze"},
    {"last_vacuum", false, "Last time this table was manually vacuumed (0: never)"},
    {"last_autovacuum", false, "Last time this table was vacuumed by autovacuum (0: never)"},
    {"last_analyze", false, "Last time this table was manually analyzed (0: never)"},
    {"last_autoanalyze", false, "Last time this table was analyzed by autovacuum (0: never)"},
    {"vacuum_count", true, "Number of times this table has been manually vacuumed"},
    {"autovacuum_count", true, "Number of times this table has been vacuumed by autovacuum"},
    {"analyze_count", true, "Number of times this table has been manually analyzed"},
    {"autoanalyze_count", true, "Number of times this table has been analyzed by autovacuum"},
}};

constexpr std::array<ViewColumn, 4> kIndexColumns{{
    {"idx_scan", true, "Number of index scans initiated on this index"},
    {"idx_tup_read", true, "Number of index entries returned by scans on this index"},
    {"idx_tup_fetch", true, "Number of live table rows fetched by simple index scans"},
    {"size_bytes", false, "Size of the index on disk"},
}};

}  // namespace

Status CollectTableUsage(QueryRunner& db, const ServerInfo&, int limit, MetricSink& sink) {
  std::string lim = std::to_string(limit);
  Result<QueryResult> tables = db.Query(
      "SELECT current_database() AS datname, schemaname, relname, seq_scan, seq_tup_read, "
      "idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd, n_live_tup, "
      "n_dead_tup, n_mod_since_analyze, "
      "coalesce(extract(epoch from last_vacuum), 0) AS last_vacuum, "
      "coalesce(extract(epoch from last_autovacuum), 0) AS last_autovacuum, "
      "coalesce(extract(epoch from last_analyze), 0) AS last_analyze, "
      "coalesce(extract(epoch from last_autoanalyze), 0) AS last_autoanalyze, "
      "vacuum_count, autovacuum_count, analyze_count, autoanalyze_count "
      "FROM pg_stat_user_tables "
      "ORDER BY coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) DESC LIMIT " +
      lim);
  if (!tables.ok()) return tables.status().WithContext("pg_stat_user_tables");
  for (std::size_t i = 0; i < tables->rows.size(); ++i) {
    Labels l{{"datname", std::string(tables->Text(i, "datname"))},
             {"schemaname", std::string(tables->Text(i, "schemaname"))},
             {"relname", std::string(tables->Text(i, "relname"))}};
    for (const ViewColumn& c : kTableColumns) {
      EmitViewColumn(sink, *tables, i, "pg_stat_user_tables_", c, l, 0);
    }
  }
  Result<QueryResult> indexes = db.Query(
      "SELECT current_database() AS datname, schemaname, relname, indexrelname, idx_scan, "
      "idx_tup_read, idx_tup_fetch, pg_relation_size(indexrelid) AS size_bytes "
      "FROM pg_stat_user_indexes ORDER BY pg_relation_size(indexrelid) DESC LIMIT " +
      lim);
  if (!indexes.ok()) return indexes.status().WithContext("pg_stat_user_indexes");
  for (std::size_t i = 0; i < indexes->rows.size(); ++i) {
    Labels l{{"datname", std::string(indexes->Text(i, "datname"))},
             {"schemaname", std::string(indexes->Text(i, "schemaname"))},
             {"relname", std::string(indexes->Text(i, "relname"))},
             {"indexrelname", std::string(indexes->Text(i, "indexrelname"))}};
    for (const ViewColumn& c : kIndexColumns) {
      EmitViewColumn(sink, *indexes, i, "pg_stat_user_indexes_", c, l, 0);
    }
  }
  return Status::Ok();
}

}  // namespace vigil::collectors
