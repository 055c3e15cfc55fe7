#!/usr/bin/env python3
"""Figures for bench/rules/run.sh: vigil and Prometheus evaluate the same rule group over the
same targets; this samples both and prints markdown.

  measure.py --vigil URL --prom URL --rules FILE --group NAME [--samples N] [--interval S]

URL is each program's base URL (http://127.0.0.1:PORT). Prints:
  1. evaluation time of the group: the last_duration_seconds metric of each, sampled once per
     new evaluation (its last_evaluation_timestamp changed) until N of each or a deadline;
  2. series each one holds, vigil's window (bytes per stored sample) and Prometheus's head;
  3. every recording rule's current result in both, compared: label sets, and values (1%)
     where the rule reads no gauge (counters are linear in time in bench/rules/target.py, so
     their rates agree whenever each scraper sampled them; gauges move between the two
     programs' scrapes and evaluations);
  4. alerts by name and state in both.
"""
import argparse
import json
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request

TIMEOUT = 30
VALUE_TOLERANCE = 0.01


def get(url):
    with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
        return r.read().decode("utf-8", "replace")


def query(base, expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    body = json.loads(get(f"{base}/api/v1/query?{urllib.parse.urlencode(params)}"))
    if body.get("status") != "success":
        raise RuntimeError(f"{base}: {expr}: {body.get('error')}")
    return body["data"]["result"]


def scalar(base, expr):
    res = query(base, expr)
    return float(res[0]["value"][1]) if res else 0.0


def metrics(base, prefix):
    """{(name, labels text): value} of the /metrics lines that start with prefix."""
    out = {}
    for line in get(f"{base}/metrics").splitlines():
        if line.startswith(prefix):
            key, _, value = line.rpartition(" ")
            name, _, labels = key.partition("{")
            out[(name, labels.rstrip("}"))] = float(value)
    return out


def group_value(m, name, group):
    for (n, labels), v in m.items():
        if n == name and re.search(r'rule_group="[^"]*;' + re.escape(group) + '"', labels):
            return v
    return None


def eval_durations(sources, group, samples, interval):
    """Durations (ms) of distinct evaluations of the group, per (base, prefix) source, all
    polled in one loop every interval / 2 until each has `samples` or a deadline passes."""
    seen = [set() for _ in sources]
    out = [[] for _ in sources]
    deadline = time.monotonic() + samples * interval * 2 + 20
    while min(len(o) for o in out) < samples and time.monotonic() < deadline:
        for (base, prefix), s, o in zip(sources, seen, out):
            m = metrics(base, prefix + "_rule_group_")
            ts = group_value(m, prefix + "_rule_group_last_evaluation_timestamp_seconds", group)
            d = group_value(m, prefix + "_rule_group_last_duration_seconds", group)
            if ts and d is not None and ts not in s and len(o) < samples:
                s.add(ts)
                o.append(d * 1000)
        time.sleep(interval / 2)
    return out


def rule_names(path):
    """(recording rules {name: expr}, alert names), from the rule file's text."""
    text = open(path).read()
    records = {}
    for m in re.finditer(r"- record: (\S+)\n\s+expr: (>-\n(?:\s{10,}.*\n)+|.*\n)", text):
        records[m.group(1)] = m.group(2)
    return records, re.findall(r"- alert: (\S+)", text)


def reads_gauge(expr, records, types, depth=0):
    for tok in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        if tok in records and depth < 10:
            if reads_gauge(records[tok], records, types, depth + 1):
                return True
        elif types.get(tok) == "gauge":
            return True
    return False


def metric_types(prom):
    body = json.loads(get(f"{prom}/api/v1/metadata"))
    return {name: entries[0]["type"] for name, entries in body["data"].items()}


def keyed(result):
    return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in result}


def fmt_ms(v):
    return f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vigil", required=True)
    p.add_argument("--prom", required=True)
    p.add_argument("--rules", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--samples", type=int, default=12)
    p.add_argument("--interval", type=float, default=5.0)
    a = p.parse_args()
    records, alerts = rule_names(a.rules)

    # 1. Evaluation time.
    vd, pd = eval_durations([(a.vigil, "vigil"), (a.prom, "prometheus")], a.group, a.samples,
                            a.interval)
    if not vd or not pd:
        sys.exit(f"no evaluations seen (vigil {len(vd)}, Prometheus {len(pd)})")

    # 2. Series and memory.
    everything, target = 'count({__name__=~".+"})', 'count({job="svc"})'
    vm = metrics(a.vigil, "vigil_window_")
    vm.update(metrics(a.vigil, "process_resident_memory_bytes"))
    pm = metrics(a.prom, "prometheus_tsdb_head_")
    pm.update(metrics(a.prom, "process_resident_memory_bytes"))
    pm.update(metrics(a.prom, "go_memstats_heap_inuse_bytes"))

    def one(m, name, own=True):  # own: unlabelled (vigil's /metrics has the targets' too)
        return sum(v for (n, labels), v in m.items() if n == name and not (own and labels))

    rows = [("series (all)", scalar(a.vigil, everything), scalar(a.prom, everything)),
            ('series {job="svc"}', scalar(a.vigil, target), scalar(a.prom, target))]
    print(f"| {a.group}: {len(records) + len(alerts)} rules ({len(records)} recording, "
          f"{len(alerts)} alerting), every {a.interval:g} s | vigil | Prometheus 2.42 | vigil / Prometheus |")
    print("|---|---|---|---|")
    for label, v, q in rows:
        print(f"| {label} | {v:,.0f} | {q:,.0f} | |")
    vmed, pmed = statistics.median(vd), statistics.median(pd)
    print(f"| evaluation time, median of {len(vd)} / {len(pd)} | {fmt_ms(vmed)} | {fmt_ms(pmed)} | "
          f"{vmed / pmed:.2f}× |")
    print(f"| evaluation time, max | {fmt_ms(max(vd))} | {fmt_ms(max(pd))} | {max(vd) / max(pd):.2f}× |")
    samples, wbytes = one(vm, "vigil_window_samples"), one(vm, "vigil_window_bytes")
    print(f"| stored samples | {samples:,.0f} (window, {one(vm, 'vigil_window_series'):,.0f} series) | "
          f"{one(pm, 'prometheus_tsdb_head_samples_appended_total', False):,.0f} (appended to the head) | |")
    print(f"| chunk bytes per stored sample | {wbytes / max(samples, 1):.2f} "
          f"({wbytes / 2**20:.1f} MiB) | – | |")
    vrss, prss = one(vm, "process_resident_memory_bytes"), one(pm, "process_resident_memory_bytes")
    print(f"| RSS | {vrss / 2**20:.0f} MiB | {prss / 2**20:.0f} MiB (Go heap in use "
          f"{one(pm, 'go_memstats_heap_inuse_bytes') / 2**20:.0f} MiB) | {vrss / prss:.2f}× |")
    print()
    print(f"vigil evaluations (ms): {' '.join(f'{v:.1f}' for v in vd)}")
    print(f"Prometheus evaluations (ms): {' '.join(f'{v:.1f}' for v in pd)}")
    print()

    # 3. Recording rules, both at the same instant (a little in the past, so both evaluated).
    types = metric_types(a.prom)
    at = time.time() - a.interval
    print("| recording rule | series vigil | series Prometheus | labels | values (±1%) |")
    print("|---|---|---|---|---|")
    agree = 0
    for name, expr in records.items():
        v, q = keyed(query(a.vigil, name, at)), keyed(query(a.prom, name, at))
        labels_ok = v.keys() == q.keys()
        if reads_gauge(expr, records, types):
            values = "gauge: not compared"
            values_ok = True
        else:
            diffs = [(v[k] - q[k]) / max(abs(q[k]), 1e-12) for k in v.keys() & q.keys()]
            worst = max(diffs, key=abs, default=0.0)  # signed: > 0 where vigil's is larger
            values_ok = abs(worst) <= VALUE_TOLERANCE
            values = f"{'yes' if values_ok else '**no**'} (largest (vigil − Prometheus) / Prometheus: {worst:+.1e})"
        agree += labels_ok and values_ok
        print(f"| `{name}` | {len(v)} | {len(q)} | {'yes' if labels_ok else '**no**'} | {values} |")
        if not labels_ok:
            for k in sorted(v.keys() - q.keys())[:3]:
                print(f"|  only in vigil: `{dict(k)}` | | | | |")
            for k in sorted(q.keys() - v.keys())[:3]:
                print(f"|  only in Prometheus: `{dict(k)}` | | | | |")
    print(f"\n{agree} of {len(records)} recording rules agree.\n")

    # 4. Alerts by name and state.
    def alert_counts(base):
        counts = {}
        for al in json.loads(get(f"{base}/api/v1/alerts"))["data"]["alerts"]:
            key = (al["labels"]["alertname"], al["state"])
            counts[key] = counts.get(key, 0) + 1
        return counts

    va, pa = alert_counts(a.vigil), alert_counts(a.prom)
    print("| alert | vigil firing / pending | Prometheus firing / pending |")
    print("|---|---|---|")
    for name in alerts:
        print(f"| {name} | {va.get((name, 'firing'), 0)} / {va.get((name, 'pending'), 0)} | "
              f"{pa.get((name, 'firing'), 0)} / {pa.get((name, 'pending'), 0)} |")


if __name__ == "__main__":
    main()
