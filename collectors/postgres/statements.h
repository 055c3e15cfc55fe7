// Reading pg_stat_statements for the StatementTracker: counters without text, texts only for
// the statements that need them, and the names of databases and roles.
#pragma once

#include "collectors/postgres/query_runner.h"
#include "collectors/postgres/statement_tracker.h"
#include "collectors/postgres/views.h"

namespace vigil::collectors {

// One full read of pg_stat_statements(false), the reset time, and the tracker update; then
// the text of statements new in the top sets. Emits deallocations. Version-aware (PG13+
// total_exec_time, PG14+ toplevel and pg_stat_statements_info, PG17 shared_blk_*_time).
Status ReadStatements(QueryRunner& db, const ServerInfo& info, TimestampMs now,
                      StatementTracker& tracker, MetricSink& sink);

// The SELECT that reads the counters for a server version (exposed for tests and benchmarks).
std::string StatementsQuery(int version_num);

}  // namespace vigil::collectors
