#!/usr/bin/env python3
"""Markdown report of bench/exporters/run.sh results: report.py RESULTS.jsonl [HEADER_FILE]."""
import json
import statistics
import sys

MiB = 2**20
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
header = open(sys.argv[2]).read().strip() if len(sys.argv) > 2 else ""


def pick(name, level=None, **kw):
    out = [r for r in recs if r["name"] == name and (level is None or str(r.get("level")) == str(level))
           and all(str(r.get(k)) == str(v) for k, v in kw.items())]
    return out


def med(rs, key):
    vals = [r[key] for r in rs if key in r]
    return statistics.median(vals) if vals else float("nan")


def spread(rs, key):
    vals = [r[key] for r in rs if key in r]
    return (min(vals), max(vals)) if vals else (float("nan"), float("nan"))


FIELDS = ["rss_idle", "rss_peak", "cpu_ms_per_cycle", "lat_p50_ms", "lat_p95_ms", "series",
          "stmt_series", "bytes", "pg_ms_per_cycle", "pg_stmt_ms_per_cycle"]


def summary(name, level):
    rs = pick(name, level)
    if not rs and name in ("redis_exporter", "process-exporter"):
        rs = pick(name, 1000)  # these do not depend on the statement count
    return {f: med(rs, f) for f in FIELDS} | {"n": len(rs)} if rs else None


def fmt(v, kind):
    if v is None or v != v:
        return "–"
    if kind == "mib":
        return f"{v / MiB:.1f} MiB"
    if kind == "ms":
        return f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms"
    if kind == "int":
        return f"{int(round(v)):,}"
    if kind == "bytes":
        return f"{v / 1e6:.2f} MB" if v >= 1e5 else f"{v / 1e3:.1f} kB"
    if kind == "x":
        return f"{v:.3f}×" if v < 0.1 else f"{v:.2f}×"
    return str(v)


COLS = [("idle RSS", "rss_idle", "mib"), ("peak RSS", "rss_peak", "mib"),
        ("CPU / cycle", "cpu_ms_per_cycle", "ms"), ("/metrics p50", "lat_p50_ms", "ms"),
        ("/metrics p95", "lat_p95_ms", "ms"), ("series", "series", "int"),
        ("bytes", "bytes", "bytes"), ("PG time / cycle", "pg_ms_per_cycle", "ms"),
        ("of which pg_stat_statements", "pg_stmt_ms_per_cycle", "ms")]

levels = sorted({int(r["level"]) for r in recs if r.get("level") and r["name"] == "vigil"})
lines = []
if header:
    lines += [l.lstrip("# ") for l in header.splitlines()]
    lines.append("")
lines.append("| statements | program | " + " | ".join(c[0] for c in COLS) + " |")
lines.append("|---|---|" + "---|" * len(COLS))
for level in levels:
    peers = [summary(n, level) for n in ("postgres_exporter", "redis_exporter", "process-exporter")]
    v = summary("vigil", level)
    bundle = None
    if all(peers):
        bundle = {f: sum(p[f] for p in peers) for f in FIELDS}
        for f in ("lat_p50_ms", "lat_p95_ms"):  # scraped in parallel: the slowest of the three
            bundle[f] = max(p[f] for p in peers)
    rows = [("postgres_exporter", peers[0]), ("redis_exporter", peers[1]),
            ("process-exporter", peers[2]), ("**bundle (sum of 3)**", bundle), ("**vigil**", v)]
    for label, s in rows:
        if s:
            lines.append(f"| {level:,} | {label} | " + " | ".join(fmt(s[c[1]], c[2]) for c in COLS) + " |")
    b = summary("vigil-baseline", level)
    if b:
        lines.append(f"| {level:,} | vigil-baseline | " + " | ".join(fmt(b[c[1]], c[2]) for c in COLS) + " |")
    if bundle and v:
        lines.append(f"| {level:,} | vigil / bundle | " + " | ".join(
            fmt(v[c[1]] / bundle[c[1]], "x") if bundle[c[1]] else "–" for c in COLS) + " |")
    fl = pick("floor-text", level)
    fb = pick("floor-binary", level)
    ft = pick("floor-withtext", level)
    if fl and fb:
        lines.append(f"| {level:,} | floor: `pg_stat_statements(false)`, libpq text / binary | – | – | "
                     f"{fmt(med(fl, 'cpu_ms_per_cycle'), 'ms')} / {fmt(med(fb, 'cpu_ms_per_cycle'), 'ms')} | – | – | – | – | "
                     f"{fmt(med(fl + fb, 'pg_ms_per_cycle'), 'ms')} (with text: {fmt(med(ft, 'pg_ms_per_cycle'), 'ms')}) | |")
lines.append("")
lines.append("CPU: utime+stime of the process over the measured cycles / cycles. PG time: "
             "total_exec_time of the program's own role in pg_stat_statements per cycle. Bundle "
             "latency: the slowest of the three (Prometheus scrapes them in parallel). redis_exporter "
             "and process-exporter are measured once (at 1,000) and reused.")

# Targets at 5,000.
v5, fl5 = summary("vigil", 5000), pick("floor-text", 5000) + pick("floor-binary", 5000)
if v5:
    floor_pg = med(fl5, "pg_ms_per_cycle")
    v1 = summary("vigil", 1000)
    checks = [
        ("peak RSS ≤ 16 MiB", fmt(v5["rss_peak"], "mib"), v5["rss_peak"] <= 16 * MiB),
        ("CPU per cycle ≤ 10 ms", fmt(v5["cpu_ms_per_cycle"], "ms"), v5["cpu_ms_per_cycle"] <= 10),
        ("pg_stat_statements PG time ≤ 1.25× floor",
         f"{fmt(v5['pg_stmt_ms_per_cycle'], 'ms')} vs floor {fmt(floor_pg, 'ms')} = "
         f"{v5['pg_stmt_ms_per_cycle'] / floor_pg:.2f}×", v5["pg_stmt_ms_per_cycle"] <= 1.25 * floor_pg),
        ("≤ 2,000 series", fmt(v5["series"], "int") + f" (statements: {fmt(v5['stmt_series'], 'int')})",
         v5["series"] <= 2000),
        ("/metrics p95 < 2 ms", fmt(v5["lat_p95_ms"], "ms"), v5["lat_p95_ms"] < 2),
    ]
    if v1:
        g = v5["cpu_ms_per_cycle"] / v1["cpu_ms_per_cycle"]
        checks.append(("CPU growth 1,000→5,000 ≤ 2×", f"{g:.2f}×", g <= 2))
    lines += ["", "| target at 5,000 statements | vigil | met |", "|---|---|---|"]
    lines += [f"| {t} | {val} | {'yes' if ok else '**no**'} |" for t, val, ok in checks]

# Growth.
lines += ["", "| growth | vigil CPU / cycle | vigil peak RSS | postgres_exporter CPU / scrape | postgres_exporter peak RSS |",
          "|---|---|---|---|---|"]
for level in levels:
    v, p = summary("vigil", level), summary("postgres_exporter", level)
    if v and p:
        lines.append(f"| {level:,} statements | {fmt(v['cpu_ms_per_cycle'], 'ms')} | {fmt(v['rss_peak'], 'mib')} | "
                     f"{fmt(p['cpu_ms_per_cycle'], 'ms')} | {fmt(p['rss_peak'], 'mib')} |")
r1, r10 = pick("vigil-redis-x1"), pick("vigil-redis-x10")
if r1 and r10:
    lines.append(f"| vigil, Redis only: 1 → 10 instances | {fmt(med(r1, 'cpu_ms_per_cycle'), 'ms')} → "
                 f"{fmt(med(r10, 'cpu_ms_per_cycle'), 'ms')} | {fmt(med(r1, 'rss_peak'), 'mib')} → "
                 f"{fmt(med(r10, 'rss_peak'), 'mib')} | redis_exporter: one process per instance | |")

# Rules and window.
ve, pr, prss = pick("vigil-extras"), pick("prometheus-rules"), pick("prometheus-rss")
if ve and pr:
    vm = statistics.median(ve[0]["rule_eval_ms"]) if ve[0]["rule_eval_ms"] else float("nan")
    pm = statistics.median(pr[0]["rule_eval_ms"]) if pr[0]["rule_eval_ms"] else float("nan")
    lines += ["", f"Rules ({int(ve[0]['rules'])} shipped rules, all groups per evaluation, medians of "
              f"{len(ve[0]['rule_eval_ms'])} and {len(pr[0]['rule_eval_ms'])} evaluations): vigil "
              f"{vm:.3f} ms, Prometheus 2.42 scraping vigil {pm:.3f} ms "
              f"({int(pr[0]['head_series'])} head series"
              + (f", peak RSS {prss[0]['rss_peak'] / MiB:.0f} MiB" if prss else "")
              + f"); vigil / Prometheus = {vm / pm:.2f}×. Window: {int(ve[0]['window_samples']):,} samples in "
              f"{int(ve[0]['window_series']):,} series, {ve[0]['window_bytes'] / MiB:.2f} MiB, "
              f"{ve[0]['window_bytes'] / max(ve[0]['window_samples'], 1):.2f} bytes per sample."]

# Noise.
reps = pick("vigil", 5000) + pick("postgres_exporter", 5000)
if len(reps) > 2:
    lines += ["", "Repeats at 5,000 (min–max): " + "; ".join(
        f"{n} CPU/cycle {spread(pick(n, 5000), 'cpu_ms_per_cycle')[0]:.2f}–{spread(pick(n, 5000), 'cpu_ms_per_cycle')[1]:.2f} ms, "
        f"PG {spread(pick(n, 5000), 'pg_ms_per_cycle')[0]:.2f}–{spread(pick(n, 5000), 'pg_ms_per_cycle')[1]:.2f} ms"
        for n in ("vigil", "postgres_exporter"))]
print("\n".join(lines))
