#!/usr/bin/env python3
"""Writes vigil's Grafana dashboards (dashboards/*.json) from the definitions below.

    dashboards/generate.py           rewrite the JSON files
    dashboards/generate.py --check   exit 1 when a JSON file differs from what this writes

Every panel reads the Prometheus datasource chosen by $datasource and filters on the
dashboard's $job and $instance (and $target for vigil's PostgreSQL and Redis series, $groupname
for process groups). Ratios guard their divisor with `(... > 0)`, so a zero gives no point
instead of Inf or NaN.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${datasource}"}
RI = "$__rate_interval"


def datasource_var():
    return {"type": "datasource", "name": "datasource", "label": "Data source",
            "query": "prometheus", "hide": 0, "refresh": 1,
            "regex": "", "options": [], "includeAll": False, "multi": False}


def query_var(name, label, query, all_value=".*", hide=0):
    return {"type": "query", "name": name, "label": label, "datasource": DS,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "regex": "", "sort": 1, "options": [],
            "includeAll": True, "allValue": all_value, "multi": True, "hide": hide}


class Board:
    def __init__(self, uid, title, description, variables, tags=()):
        self.uid, self.title, self.description = uid, title, description
        self.variables = variables
        self.tags = ["vigil"] + list(tags)
        self.panels = []
        self.x = 0
        self.y = 0
        self.row_h = 0

    def _place(self, w, h):
        if self.x + w > 24:
            self.x = 0
            self.y += self.row_h
            self.row_h = 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title):
        if self.x:
            self.x = 0
            self.y += self.row_h
            self.row_h = 0
        self.panels.append({"type": "row", "title": title, "collapsed": False, "panels": [],
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}})
        self.y += 1

    def _targets(self, queries, instant=False, fmt="time_series"):
        out = []
        for i, q in enumerate(queries):
            expr, legend = q if isinstance(q, tuple) else (q, "")
            t = {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr,
                 "legendFormat": legend or "__auto", "range": not instant, "instant": instant,
                 "editorMode": "code"}
            if fmt != "time_series":
                t["format"] = fmt
            out.append(t)
        return out

    def timeseries(self, title, queries, unit="short", w=12, h=8, description="", stack=False,
                   min_zero=True, max_value=None, thresholds=None):
        defaults = {"unit": unit, "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                                             "showPoints": "never", "spanNulls": False,
                                             "stacking": {"mode": "normal" if stack else "none", "group": "A"}}}
        if min_zero:
            defaults["min"] = 0
        if max_value is not None:
            defaults["max"] = max_value
        if thresholds:
            defaults["thresholds"] = thresholds
            defaults["custom"]["thresholdsStyle"] = {"mode": "line"}
        self.panels.append({
            "type": "timeseries", "title": title, "description": description, "datasource": DS,
            "gridPos": self._place(w, h), "targets": self._targets(queries),
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
                        "tooltip": {"mode": "multi", "sort": "desc"}}})

    def stat(self, title, query, unit="short", w=4, h=4, description="", thresholds=None,
             mappings=None):
        defaults = {"unit": unit, "mappings": mappings or []}
        if thresholds:
            defaults["thresholds"] = thresholds
        self.panels.append({
            "type": "stat", "title": title, "description": description, "datasource": DS,
            "gridPos": self._place(w, h), "targets": self._targets([query]),
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area", "justifyMode": "auto",
                        "orientation": "auto", "textMode": "auto",
                        "showPercentChange": False, "wideLayout": True}})

    def table(self, title, queries, w=24, h=9, description="", exclude=(), units=None, rename=None):
        overrides = []
        for field, unit in (units or {}).items():
            overrides.append({"matcher": {"id": "byName", "options": field},
                              "properties": [{"id": "unit", "value": unit}]})
        excluded = {f: True for f in ("Time", "__name__", "job", "instance", "env") + tuple(exclude)}
        self.panels.append({
            "type": "table", "title": title, "description": description, "datasource": DS,
            "gridPos": self._place(w, h),
            "targets": self._targets(queries, instant=True, fmt="table"),
            "transformations": [{"id": "merge", "options": {}},
                                {"id": "organize", "options": {"excludeByName": excluded,
                                                               "renameByName": rename or {}}}],
            "fieldConfig": {"defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False}},
                            "overrides": overrides},
            "options": {"showHeader": True, "cellHeight": "sm", "frameIndex": 0,
                        "footer": {"show": False, "reducer": ["sum"], "countRows": False}}})

    def json(self):
        panels = []
        for i, p in enumerate(self.panels, start=1):
            panels.append(dict(id=i, **p))
        return {
            "uid": self.uid, "title": self.title, "description": self.description, "tags": self.tags,
            "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1,
            "timezone": "browser", "refresh": "5s", "liveNow": False, "fiscalYearStartMonth": 0,
            "time": {"from": "now-15m", "to": "now"}, "timepicker": {},
            "annotations": {"list": []}, "links": [
                {"title": "vigil dashboards", "type": "dashboards", "tags": ["vigil"],
                 "asDropdown": True, "includeVars": True, "keepTime": True, "icon": "external link",
                 "targetBlank": False, "tooltip": "", "url": ""}],
            "templating": {"list": self.variables}, "panels": panels}


def pct_thresholds(warn, crit):
    return {"mode": "absolute", "steps": [{"color": "green", "value": None},
                                          {"color": "orange", "value": warn},
                                          {"color": "red", "value": crit}]}


def low_thresholds(crit, warn):
    return {"mode": "absolute", "steps": [{"color": "red", "value": None},
                                          {"color": "orange", "value": crit},
                                          {"color": "green", "value": warn}]}


# ---------------------------------------------------------------- overview (shop's signals)
def overview():
    s = '{job=~"$job", instance=~"$instance"}'
    sel = 'job=~"$job", instance=~"$instance"'
    b = Board("vigil-overview", "vigil / Overview",
              "The service's four golden signals (shop's /metrics) and the alerts that are active.",
              [datasource_var(),
               query_var("job", "Service job", "label_values(http_request_duration_seconds_count, job)"),
               query_var("instance", "Instance", 'label_values(http_request_duration_seconds_count{job=~"$job"}, instance)')],
              tags=["shop"])
    b.row("Alerts")
    b.stat("Firing alerts", 'count(ALERTS{alertstate="firing"}) or vector(0)', w=4,
           thresholds=pct_thresholds(1, 3))
    b.stat("Pending alerts", 'count(ALERTS{alertstate="pending"}) or vector(0)', w=4,
           thresholds=pct_thresholds(1, 100))
    b.table("Active alerts (ALERTS)", [('ALERTS', "")], w=16, h=4,
            exclude=("Value",), description="Alerts pending or firing, as vigil's rule engine reports them.")
    b.row("Traffic")
    b.timeseries("Request rate by route",
                 [(f'sum by (route) (rate(http_request_duration_seconds_count{s}[{RI}]))', "{{route}}")],
                 unit="reqps", stack=True)
    b.timeseries("Requests by status",
                 [(f'sum by (status) (rate(http_request_duration_seconds_count{s}[{RI}]))', "{{status}}")],
                 unit="reqps", stack=True)
    b.row("Errors")
    b.timeseries("Error rate (5xx / all)",
                 [(f'(sum(rate(http_request_duration_seconds_count{{{sel}, status=~"5.."}}[{RI}])) or vector(0))'
                   f' / (sum(rate(http_request_duration_seconds_count{s}[{RI}])) > 0)', "5xx ratio")],
                 unit="percentunit", thresholds=pct_thresholds(0.001, 0.01),
                 description="Target < 0.1%; > 1% for 1 m is critical.")
    b.timeseries("Client errors and rejections (4xx) by route",
                 [(f'sum by (route, status) (rate(http_request_duration_seconds_count{{{sel}, status=~"4.."}}[{RI}])) or vector(0)', "{{route}} {{status}}")],
                 unit="reqps")
    b.row("Latency")
    for q in (0.5, 0.9, 0.99):
        pass
    b.timeseries("Request latency p50 / p90 / p99",
                 [(f'histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{s}[{RI}])))', f"p{int(q * 100)}")
                  for q in (0.5, 0.9, 0.99)],
                 unit="s", thresholds=pct_thresholds(0.2, 1))
    b.timeseries("API response time p95 by route",
                 [(f'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{s}[{RI}])))', "{{route}}")],
                 unit="s", thresholds=pct_thresholds(0.2, 0.5),
                 description="Target p95 < 200 ms; > 500 ms is a warning.")
    b.timeseries("Database query time p95 by table and operation",
                 [(f'histogram_quantile(0.95, sum by (le, table, operation) (rate(db_query_duration_seconds_bucket{s}[{RI}])))', "{{operation}} {{table}}")],
                 unit="s", thresholds=pct_thresholds(0.05, 0.1),
                 description="Target p95 < 50 ms; > 100 ms is a warning.")
    b.timeseries("Cache operation time p95",
                 [(f'histogram_quantile(0.95, sum by (le, operation) (rate(cache_operation_duration_seconds_bucket{s}[{RI}])))', "{{operation}}")],
                 unit="s", thresholds=pct_thresholds(0.01, 0.025))
    b.row("Saturation")
    b.timeseries("Cache hit ratio by key group",
                 [(f'sum by (group) (rate(cache_requests_total{{{sel}, result="hit"}}[{RI}]))'
                   f' / (sum by (group) (rate(cache_requests_total{s}[{RI}])) > 0)', "{{group}}")],
                 unit="percentunit", max_value=1, thresholds=low_thresholds(0.5, 0.9))
    b.timeseries("Connection pool used / max",
                 [(f'sum by (instance, pool_name) (db_client_connection_count{{{sel}, state="used"}})'
                   f' / on (instance, pool_name) (sum by (instance, pool_name) (db_client_connection_max{s}) > 0)', "{{pool_name}}")],
                 unit="percentunit", max_value=1, thresholds=pct_thresholds(0.8, 0.9))
    b.timeseries("Worker threads busy / max",
                 [(f'sum by (instance) (http_server_worker_threads_busy{s}) / (sum by (instance) (http_server_worker_threads_max{s}) > 0)', "{{instance}}")],
                 unit="percentunit", max_value=1, thresholds=pct_thresholds(0.8, 0.9))
    b.timeseries("In flight and queued",
                 [(f'sum(http_requests_in_flight{s})', "in flight"),
                  (f'sum(http_server_queued_connections{s})', "queued connections")])
    b.timeseries("Memory (RSS)", [(f'process_resident_memory_bytes{s}', "{{instance}}")], unit="bytes")
    b.timeseries("Threads", [(f'process_threads{s}', "{{instance}}")])
    return b


# ---------------------------------------------------------------- PostgreSQL
def vigil_vars(metric, extra=()):
    return [datasource_var(),
            query_var("job", "vigil job", f"label_values({metric}, job)"),
            query_var("instance", "vigil instance", f'label_values({metric}{{job=~"$job"}}, instance)'),
            *extra]


def postgres():
    s = '{job=~"$job", instance=~"$instance", target=~"$target"}'
    sel = 'job=~"$job", instance=~"$instance", target=~"$target"'
    b = Board("vigil-postgres", "vigil / PostgreSQL",
              "PostgreSQL as vigil's postgres collector sees it: top statements (pg_stat_statements "
              "deltas computed in the agent), connections, blocking, cache and index usage.",
              vigil_vars("pg_up", [query_var("target", "Server", 'label_values(pg_up{job=~"$job", instance=~"$instance"}, target)')]),
              tags=["postgres"])
    b.row("Server")
    b.stat("Up", f'min(pg_up{s})', w=3, mappings=[
        {"type": "value", "options": {"0": {"text": "DOWN", "color": "red"}, "1": {"text": "UP", "color": "green"}}}],
        thresholds=low_thresholds(0, 1))
    b.stat("Connections used", f'sum(pg_stat_activity_count{s}) / (max(pg_settings_max_connections{s}) > 0)',
           unit="percentunit", w=4, thresholds=pct_thresholds(0.8, 0.9))
    b.stat("Buffer cache hit ratio",
           f'sum(rate(pg_stat_database_blks_hit{s}[{RI}])) / ((sum(rate(pg_stat_database_blks_hit{s}[{RI}])) + sum(rate(pg_stat_database_blks_read{s}[{RI}]))) > 0)',
           unit="percentunit", w=4, thresholds=low_thresholds(0.9, 0.99))
    b.stat("Waiting sessions", f'sum(pg_locks_waiting_sessions{s})', w=4, thresholds=pct_thresholds(1, 5))
    b.stat("Uptime", f'time() - max(pg_postmaster_start_time_seconds{s})', unit="s", w=4)
    b.stat("Statements tracked", f'sum(vigil_pg_statements_tracked{s})', w=5)
    b.row("Top statements")
    join = f'* on (target, datname, user, queryid, toplevel) group_left (query) vigil_pg_statement_info{s}'
    b.table("Top statements by total execution time (rates over vigil's statements interval)", [
        (f'topk(10, vigil_pg_statement_exec_seconds_per_second{{{sel}, queryid!="other"}}) {join}', ""),
        (f'vigil_pg_statement_calls_per_second{{{sel}, queryid!="other"}} {join}', ""),
        (f'vigil_pg_statement_mean_exec_seconds{{{sel}, queryid!="other"}} {join}', ""),
        (f'vigil_pg_statement_rows_per_second{{{sel}, queryid!="other"}} {join}', "")],
        h=10, exclude=("target", "toplevel"),
        rename={"Value #A": "exec time (s/s)", "Value #B": "calls/s", "Value #C": "mean time",
                "Value #D": "rows/s"},
        units={"Value #A": "s", "Value #B": "reqps", "Value #C": "s", "Value #D": "short"},
        description="The statements with the most execution time per second (pg_stat_statements "
                    "deltas); query text from vigil_pg_statement_info. The full text is at vigil's "
                    "/api/v1/postgres/statements.")
    b.timeseries("Statement execution time by query (top 10)",
                 [(f'topk(10, vigil_pg_statement_exec_seconds_per_second{s})', "{{datname}} {{queryid}}")],
                 unit="s", w=12)
    b.timeseries("Slowest statements: mean execution time (top 10)",
                 [(f'topk(10, vigil_pg_statement_mean_exec_seconds{{{sel}, queryid!="other"}})', "{{datname}} {{queryid}}")],
                 unit="s", w=12, thresholds=pct_thresholds(0.05, 0.1))
    b.timeseries("All statements: calls and execution time per second",
                 [(f'sum by (datname) (rate(vigil_pg_statements_calls_total{s}[{RI}]))', "calls/s {{datname}}"),
                  (f'sum by (datname) (rate(vigil_pg_statements_exec_seconds_total{s}[{RI}]))', "exec s/s {{datname}}")],
                 w=12)
    b.timeseries("All statements: mean execution time",
                 [(f'sum by (datname) (rate(vigil_pg_statements_exec_seconds_total{s}[{RI}])) / (sum by (datname) (rate(vigil_pg_statements_calls_total{s}[{RI}])) > 0)', "{{datname}}")],
                 unit="s", w=12)
    b.row("Connections")
    b.timeseries("Connections by state vs max_connections",
                 [(f'sum by (state) (pg_stat_activity_count{s})', "{{state}}"),
                  (f'max(pg_settings_max_connections{s})', "max_connections")], stack=False)
    b.timeseries("Sessions waiting, by wait event type",
                 [(f'sum by (wait_event_type) (pg_stat_activity_active_waiting_count{s})', "{{wait_event_type}}")])
    b.row("Blocking and locks")
    b.timeseries("Sessions waiting for a lock and the oldest wait",
                 [(f'sum(pg_locks_waiting_sessions{s})', "waiting sessions"),
                  (f'max(pg_locks_oldest_wait_seconds{s})', "oldest wait (s)")],
                 description="Who blocks whom: vigil's /api/v1/postgres/blocking.")
    b.timeseries("Locks by mode", [(f'sum by (mode) (pg_locks_count{s})', "{{mode}}")])
    b.timeseries("Oldest query and idle-in-transaction",
                 [(f'max(pg_stat_activity_oldest_query_seconds{s})', "oldest query"),
                  (f'max(pg_stat_activity_oldest_idle_in_transaction_seconds{s})', "oldest idle in transaction"),
                  (f'max(pg_stat_activity_max_tx_duration{s})', "longest transaction")], unit="s")
    b.timeseries("Deadlocks and temp files",
                 [(f'sum(rate(pg_stat_database_deadlocks{s}[{RI}]))', "deadlocks/s"),
                  (f'sum(rate(pg_stat_database_temp_files{s}[{RI}]))', "temp files/s")])
    b.row("Throughput and cache")
    b.timeseries("Transactions per second",
                 [(f'sum by (datname) (rate(pg_stat_database_xact_commit{s}[{RI}]))', "commit {{datname}}"),
                  (f'sum by (datname) (rate(pg_stat_database_xact_rollback{s}[{RI}]))', "rollback {{datname}}")],
                 unit="ops")
    b.timeseries("Buffer cache hit ratio by database",
                 [(f'sum by (datname) (rate(pg_stat_database_blks_hit{s}[{RI}])) / ((sum by (datname) (rate(pg_stat_database_blks_hit{s}[{RI}])) + sum by (datname) (rate(pg_stat_database_blks_read{s}[{RI}]))) > 0)', "{{datname}}")],
                 unit="percentunit", max_value=1)
    b.timeseries("Tuples per second",
                 [(f'sum by (datname) (rate(pg_stat_database_tup_fetched{s}[{RI}]))', "fetched {{datname}}"),
                  (f'sum by (datname) (rate(pg_stat_database_tup_returned{s}[{RI}]))', "returned {{datname}}"),
                  (f'sum by (datname) (rate(pg_stat_database_tup_inserted{s}[{RI}]))', "inserted {{datname}}"),
                  (f'sum by (datname) (rate(pg_stat_database_tup_updated{s}[{RI}]))', "updated {{datname}}")],
                 unit="ops")
    b.timeseries("Database size", [(f'pg_database_size_bytes{s}', "{{datname}}")], unit="bytes")
    b.row("Tables and indexes")
    b.timeseries("Index usage: share of scans using an index, by table",
                 [(f'sum by (datname, relname) (rate(pg_stat_user_tables_idx_scan{s}[{RI}])) / ((sum by (datname, relname) (rate(pg_stat_user_tables_idx_scan{s}[{RI}])) + sum by (datname, relname) (rate(pg_stat_user_tables_seq_scan{s}[{RI}]))) > 0)', "{{relname}}")],
                 unit="percentunit", max_value=1, thresholds=low_thresholds(0.5, 0.9),
                 description="Target > 90% of scans use an index.")
    b.timeseries("Sequential scans per second by table",
                 [(f'topk(10, sum by (datname, relname) (rate(pg_stat_user_tables_seq_scan{s}[{RI}])))', "{{relname}}")],
                 unit="ops")
    b.table("Index usage per index", [
        (f'topk(20, sum by (datname, relname, indexrelname) (rate(pg_stat_user_indexes_idx_scan{s}[{RI}])))', ""),
        (f'topk(20, sum by (datname, relname, indexrelname) (rate(pg_stat_user_indexes_idx_tup_read{s}[{RI}])))', ""),
        (f'sum by (datname, relname, indexrelname) (pg_stat_user_indexes_size_bytes{s})', "")],
        h=9, rename={"Value #A": "scans/s", "Value #B": "tuples read/s", "Value #C": "size"},
        units={"Value #C": "bytes"})
    b.timeseries("Dead tuples by table",
                 [(f'topk(10, sum by (datname, relname) (pg_stat_user_tables_n_dead_tup{s}))', "{{relname}}")])
    b.timeseries("Checkpoints and buffers written",
                 [(f'sum(rate(pg_stat_bgwriter_checkpoints_timed_total{s}[{RI}])) + sum(rate(pg_stat_bgwriter_checkpoints_req_total{s}[{RI}]))', "checkpoints/s"),
                  (f'sum(rate(pg_stat_bgwriter_buffers_backend_total{s}[{RI}]))', "buffers written by backends/s")])
    b.row("Replication")
    b.timeseries("Replication lag (replicas)", [(f'max by (target) (pg_replication_lag_seconds{s})', "{{target}}")], unit="s")
    b.timeseries("WAL behind on replicas (primaries)",
                 [(f'max by (application_name) (pg_stat_replication_pg_wal_lsn_diff{s})', "{{application_name}}")],
                 unit="bytes")
    return b


# ---------------------------------------------------------------- Redis
def redis():
    s = '{job=~"$job", instance=~"$instance", target=~"$target"}'
    b = Board("vigil-redis", "vigil / Redis", "Redis as vigil's redis collector sees it (redis_exporter names).",
              vigil_vars("redis_up", [query_var("target", "Server", 'label_values(redis_up{job=~"$job", instance=~"$instance"}, target)')]),
              tags=["redis"])
    b.row("Server")
    b.stat("Up", f'min(redis_up{s})', w=4, thresholds=low_thresholds(0, 1), mappings=[
        {"type": "value", "options": {"0": {"text": "DOWN", "color": "red"}, "1": {"text": "UP", "color": "green"}}}])
    b.stat("Keyspace hit ratio",
           f'sum(rate(redis_keyspace_hits_total{s}[{RI}])) / ((sum(rate(redis_keyspace_hits_total{s}[{RI}])) + sum(rate(redis_keyspace_misses_total{s}[{RI}]))) > 0)',
           unit="percentunit", w=5, thresholds=low_thresholds(0.5, 0.9))
    b.stat("Memory used", f'sum(redis_memory_used_bytes{s})', unit="bytes", w=5)
    b.stat("Clients", f'sum(redis_connected_clients{s})', w=5)
    b.stat("Uptime", f'min(redis_uptime_in_seconds{s})', unit="s", w=5)
    b.row("Cache")
    b.timeseries("Keyspace hit ratio",
                 [(f'sum by (target) (rate(redis_keyspace_hits_total{s}[{RI}])) / ((sum by (target) (rate(redis_keyspace_hits_total{s}[{RI}])) + sum by (target) (rate(redis_keyspace_misses_total{s}[{RI}]))) > 0)', "{{target}}")],
                 unit="percentunit", max_value=1, thresholds=low_thresholds(0.5, 0.9))
    b.timeseries("Hits and misses per second",
                 [(f'sum by (target) (rate(redis_keyspace_hits_total{s}[{RI}]))', "hits {{target}}"),
                  (f'sum by (target) (rate(redis_keyspace_misses_total{s}[{RI}]))', "misses {{target}}")], unit="ops")
    b.timeseries("Keys", [(f'sum by (target, db) (redis_db_keys{s})', "{{target}} {{db}}"),
                          (f'sum by (target, db) (redis_db_keys_expiring{s})', "expiring {{target}} {{db}}")])
    b.timeseries("Expired and evicted keys per second",
                 [(f'sum by (target) (rate(redis_expired_keys_total{s}[{RI}]))', "expired {{target}}"),
                  (f'sum by (target) (rate(redis_evicted_keys_total{s}[{RI}]))', "evicted {{target}}")], unit="ops")
    b.row("Commands and latency")
    b.timeseries("Commands per second (top 10)",
                 [(f'topk(10, sum by (cmd) (rate(redis_commands_total{s}[{RI}])))', "{{cmd}}")], unit="ops")
    b.timeseries("Mean command time (top 10)",
                 [(f'topk(10, sum by (cmd) (rate(redis_commands_duration_seconds_total{s}[{RI}])) / (sum by (cmd) (rate(redis_commands_total{s}[{RI}])) > 0))', "{{cmd}}")],
                 unit="s", thresholds=pct_thresholds(0.01, 0.025))
    b.timeseries("Command latency p99 (INFO latencystats)",
                 [(f'topk(10, max by (cmd) (redis_latency_percentiles_usec{{job=~"$job", instance=~"$instance", target=~"$target", quantile="99"}}))', "{{cmd}}")],
                 unit="µs")
    b.timeseries("Slowlog", [(f'sum by (target) (redis_slowlog_length{s})', "entries {{target}}"),
                             (f'sum by (target) (rate(redis_slowlog_commands_total{s}[{RI}])) or sum by (target) (redis_slowlog_length{s}) * 0', "new slow commands/s {{target}}")])
    b.row("Resources")
    b.timeseries("Memory", [(f'sum by (target) (redis_memory_used_bytes{s})', "used {{target}}"),
                            (f'sum by (target) (redis_memory_used_rss_bytes{s})', "RSS {{target}}"),
                            (f'sum by (target) (redis_memory_max_bytes{s})', "maxmemory (0: none) {{target}}")], unit="bytes")
    b.timeseries("Network", [(f'sum by (target) (rate(redis_net_input_bytes_total{s}[{RI}]))', "in {{target}}"),
                             (f'sum by (target) (rate(redis_net_output_bytes_total{s}[{RI}]))', "out {{target}}")], unit="Bps")
    b.timeseries("CPU", [(f'sum by (target) (rate(redis_cpu_sys_seconds_total{s}[{RI}]) + rate(redis_cpu_user_seconds_total{s}[{RI}]))', "{{target}}")],
                 unit="percentunit")
    b.timeseries("Clients", [(f'sum by (target) (redis_connected_clients{s})', "connected {{target}}"),
                             (f'sum by (target) (redis_blocked_clients{s})', "blocked {{target}}"),
                             (f'sum by (target) (rate(redis_rejected_connections_total{s}[{RI}]))', "rejected/s {{target}}")])
    return b


# ---------------------------------------------------------------- processes
def processes():
    s = '{job=~"$job", instance=~"$instance", groupname=~"$groupname"}'
    sel = 'job=~"$job", instance=~"$instance", groupname=~"$groupname"'
    b = Board("vigil-processes", "vigil / Processes",
              "Process groups from vigil's process collector (process-exporter names): memory "
              "(RSS and PSS), threads, CPU, file descriptors.",
              vigil_vars("namedprocess_namegroup_num_procs", [query_var(
                  "groupname", "Group", 'label_values(namedprocess_namegroup_num_procs{job=~"$job", instance=~"$instance"}, groupname)')]),
              tags=["process"])
    b.row("Resources")
    b.timeseries("CPU by group (cores)",
                 [(f'sum by (groupname) (rate(namedprocess_namegroup_cpu_seconds_total{s}[{RI}]))', "{{groupname}}")],
                 unit="short", description="1 = one full core. Target 60–70% of the machine; > 80% is a warning.")
    b.timeseries("CPU user / system",
                 [(f'sum by (groupname, mode) (rate(namedprocess_namegroup_cpu_seconds_total{s}[{RI}]))', "{{groupname}} {{mode}}")])
    b.timeseries("Resident memory (RSS)",
                 [(f'sum by (groupname) (namedprocess_namegroup_memory_bytes{{{sel}, memtype="resident"}})', "{{groupname}}")], unit="bytes")
    b.timeseries("Proportional memory (PSS)",
                 [(f'sum by (groupname) (namedprocess_namegroup_memory_bytes{{{sel}, memtype="proportionalResident"}})', "{{groupname}}")], unit="bytes",
                 description="Shared pages divided among the processes sharing them: the right sum for multi-process servers such as PostgreSQL.")
    b.timeseries("Threads", [(f'sum by (groupname) (namedprocess_namegroup_num_threads{s})', "{{groupname}}")],
                 description="No unbounded growth; > 10,000 for 5 m is a leak.")
    b.timeseries("Processes", [(f'sum by (groupname) (namedprocess_namegroup_num_procs{s})', "{{groupname}}")])
    b.timeseries("Open file descriptors", [(f'sum by (groupname) (namedprocess_namegroup_open_filedesc{s})', "{{groupname}}")])
    b.timeseries("Worst fd ratio (open / limit)", [(f'max by (groupname) (namedprocess_namegroup_worst_fd_ratio{s})', "{{groupname}}")],
                 unit="percentunit", max_value=1, thresholds=pct_thresholds(0.8, 0.9))
    b.row("Activity")
    b.timeseries("Context switches per second",
                 [(f'sum by (groupname, ctxswitchtype) (rate(namedprocess_namegroup_context_switches_total{s}[{RI}]))', "{{groupname}} {{ctxswitchtype}}")], unit="ops")
    b.timeseries("Disk I/O", [(f'sum by (groupname) (rate(namedprocess_namegroup_read_bytes_total{s}[{RI}]))', "read {{groupname}}"),
                              (f'sum by (groupname) (rate(namedprocess_namegroup_write_bytes_total{s}[{RI}]))', "write {{groupname}}")], unit="Bps")
    b.timeseries("Page faults per second",
                 [(f'sum by (groupname) (rate(namedprocess_namegroup_major_page_faults_total{s}[{RI}]))', "major {{groupname}}"),
                  (f'sum by (groupname) (rate(namedprocess_namegroup_minor_page_faults_total{s}[{RI}]))', "minor {{groupname}}")], unit="ops")
    b.timeseries("Peak resident memory", [(f'max by (groupname) (vigil_process_group_peak_resident_memory_bytes{s})', "{{groupname}}")], unit="bytes")
    return b


# ---------------------------------------------------------------- connection pool
def pool():
    s = '{job=~"$job", instance=~"$instance"}'
    sel = 'job=~"$job", instance=~"$instance"'
    b = Board("vigil-pool", "vigil / Connection pool",
              "The service's database connection pool (OpenTelemetry names, db_client_connection_*) and its worker threads.",
              [datasource_var(),
               query_var("job", "Service job", "label_values(db_client_connection_max, job)"),
               query_var("instance", "Instance", 'label_values(db_client_connection_max{job=~"$job"}, instance)')],
              tags=["shop", "pool"])
    b.row("Pool state")
    b.stat("Pool used", f'sum(db_client_connection_count{{{sel}, state="used"}}) / (sum(db_client_connection_max{s}) > 0)',
           unit="percentunit", w=6, thresholds=pct_thresholds(0.8, 0.9))
    b.stat("Pending requests", f'sum(db_client_connection_pending_requests{s})', w=6, thresholds=pct_thresholds(1, 5))
    b.stat("Acquire timeouts (5m)", f'sum(increase(db_client_connection_timeouts_total{s}[5m]))', w=6, thresholds=pct_thresholds(1, 10))
    b.stat("Max connections", f'sum(db_client_connection_max{s})', w=6)
    b.timeseries("Connections: used, idle, max",
                 [(f'sum by (pool_name, state) (db_client_connection_count{s})', "{{state}} {{pool_name}}"),
                  (f'sum by (pool_name) (db_client_connection_max{s})', "max {{pool_name}}")])
    b.timeseries("Pool usage (used / max)",
                 [(f'sum by (instance, pool_name) (db_client_connection_count{{{sel}, state="used"}}) / on (instance, pool_name) (sum by (instance, pool_name) (db_client_connection_max{s}) > 0)', "{{instance}} {{pool_name}}")],
                 unit="percentunit", max_value=1, thresholds=pct_thresholds(0.8, 0.9),
                 description="Target 60–70%; > 80% for 5 m is a warning, > 90% critical.")
    b.row("Waits")
    b.timeseries("Pending requests (waiting for a connection)",
                 [(f'sum by (pool_name) (db_client_connection_pending_requests{s})', "{{pool_name}}")])
    b.timeseries("Waits and timeouts per second",
                 [(f'sum by (pool_name) (rate(db_client_connection_wait_time_seconds_count{s}[{RI}]))', "acquires {{pool_name}}"),
                  (f'sum by (pool_name) (rate(db_client_connection_timeouts_total{s}[{RI}]))', "timeouts {{pool_name}}")], unit="ops")
    b.timeseries("Wait time p50 / p95 / p99",
                 [(f'histogram_quantile({q}, sum by (le) (rate(db_client_connection_wait_time_seconds_bucket{s}[{RI}])))', f"p{int(q * 100)}")
                  for q in (0.5, 0.95, 0.99)], unit="s")
    b.timeseries("Use time p50 / p95 / p99 (connection held)",
                 [(f'histogram_quantile({q}, sum by (le) (rate(db_client_connection_use_time_seconds_bucket{s}[{RI}])))', f"p{int(q * 100)}")
                  for q in (0.5, 0.95, 0.99)], unit="s")
    b.row("Churn and workers")
    b.timeseries("Connections created and closed per second",
                 [(f'sum(rate(db_client_connection_created_total{s}[{RI}]))', "created"),
                  (f'sum by (reason) (rate(db_client_connection_closed_total{s}[{RI}])) or sum(rate(db_client_connection_created_total{s}[{RI}])) * 0', "closed {{reason}}")],
                 unit="ops")
    b.timeseries("Worker threads and queued connections",
                 [(f'sum(http_server_worker_threads_busy{s})', "busy workers"),
                  (f'sum(http_server_worker_threads_max{s})', "max workers"),
                  (f'sum(http_server_queued_connections{s})', "queued connections")])
    return b


# ---------------------------------------------------------------- vigil itself
def vigil_self():
    s = '{job=~"$job", instance=~"$instance"}'
    sel = 'job=~"$job", instance=~"$instance"'
    b = Board("vigil-agent", "vigil / Agent",
              "vigil itself: collector health and timing, its process, its config.",
              vigil_vars("vigil_collector_up"), tags=["agent"])
    b.row("Collectors")
    b.stat("Collectors down", f'count(vigil_collector_up{s} == 0) or vector(0)', w=6, thresholds=pct_thresholds(1, 1))
    b.stat("Config reload ok", f'min(vigil_config_last_reload_successful{s})', w=6, thresholds=low_thresholds(0, 1))
    b.stat("Resident memory", f'max(process_resident_memory_bytes{s})', unit="bytes", w=6)
    b.stat("CPU (cores)", f'sum(rate(process_cpu_seconds_total{s}[{RI}]))', w=6)
    b.timeseries("Collector up by collector and target",
                 [(f'min by (collector, target) (vigil_collector_up{s})', "{{collector}} {{target}}")], max_value=1)
    b.timeseries("Collector duration",
                 [(f'max by (collector, target) (vigil_collector_duration_seconds{s})', "{{collector}} {{target}}")], unit="s")
    b.timeseries("Skipped runs and timeouts per second",
                 [(f'sum by (collector, target) (rate(vigil_collector_skipped_total{s}[{RI}]))', "skipped {{collector}} {{target}}"),
                  (f'sum by (collector, target) (rate(vigil_collector_timeouts_total{s}[{RI}]))', "timeouts {{collector}} {{target}}")], unit="ops")
    b.timeseries("Samples per scrape target",
                 [(f'sum by (collector, target) (scrape_samples_scraped{{{sel}}}) or sum by (collector, target) (vigil_collector_up{{{sel}, collector="scrape"}}) * 0', "{{collector}} {{target}}")],
                 description="What vigil's scrape collector read from each target.")
    b.row("Process")
    b.timeseries("Memory", [(f'process_resident_memory_bytes{s}', "RSS {{instance}}"),
                            (f'vigil_peak_resident_memory_bytes{s}', "peak RSS {{instance}}")], unit="bytes")
    b.timeseries("CPU (cores)", [(f'rate(process_cpu_seconds_total{s}[{RI}])', "{{instance}}")])
    b.timeseries("Threads", [(f'vigil_threads{s}', "{{instance}}")])
    b.timeseries("File descriptors", [(f'process_open_fds{s}', "open {{instance}}"),
                                      (f'process_open_fds{s} / (process_max_fds{s} > 0)', "open / max {{instance}}")])
    b.timeseries("Series exposed", [(f'scrape_samples_scraped{{{sel}}}', "{{instance}}")],
                 description="Samples Prometheus read from vigil's /metrics (Prometheus's own scrape_samples_scraped).")
    return b


BOARDS = {"overview": overview, "postgres": postgres, "redis": redis, "processes": processes,
          "pool": pool, "vigil": vigil_self}


def render():
    return {f"{name}.json": json.dumps(fn().json(), indent=2, ensure_ascii=False) + "\n"
            for name, fn in BOARDS.items()}


def main():
    check = "--check" in sys.argv[1:]
    bad = []
    for fname, text in render().items():
        path = os.path.join(HERE, fname)
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        bad.append(fname)
            except FileNotFoundError:
                bad.append(fname)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if bad:
        print("out of date (run dashboards/generate.py): " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
