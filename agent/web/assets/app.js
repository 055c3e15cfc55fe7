// vigil status page: renders the agent's JSON APIs. Every value from the agent goes into the
// DOM as text (h() never parses HTML), so label values and query text cannot inject markup.
'use strict';
(() => {
  const REFRESH_MS = 10000;
  const COLORS = ['#2456a6', '#c0392b', '#1f7a3a', '#8e44ad', '#a25b00', '#16808a'];
  const SVGNS = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);

  // h('td', {class: 'num'}, 'text', node, [more]) -> element. Strings become text nodes.
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, kids);
    return el;
  }
  function append(el, kids) {
    for (const k of kids) {
      if (k === undefined || k === null || k === false) continue;
      if (Array.isArray(k)) append(el, k);
      else el.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
    }
  }
  function svg(tag, attrs) {
    const el = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    return el;
  }
  function fill(el, ...kids) {
    el.replaceChildren();
    append(el, kids);
  }

  async function api(path) {
    let res;
    try {
      res = await fetch(path, {cache: 'no-store'});
    } catch (e) {
      throw new Error('cannot reach vigil: ' + e.message);
    }
    let body;
    try {
      body = await res.json();
    } catch (e) {
      throw new Error(`${path}: HTTP ${res.status}, not JSON`);
    }
    if (body.status !== 'success') {
      throw new Error((body.errorType ? body.errorType + ': ' : '') + (body.error || 'HTTP ' + res.status));
    }
    return body.data;
  }

  // ---- formatting ----
  function fmtSeconds(s) {
    if (s === null || s === undefined || !isFinite(s)) return String(s);
    const a = Math.abs(s);
    if (a === 0) return '0 s';
    if (a < 1e-3) return (s * 1e6).toFixed(0) + ' µs';
    if (a < 1) return (s * 1e3).toFixed(a < 0.01 ? 2 : 1) + ' ms';
    if (a < 120) return s.toFixed(a < 10 ? 2 : 1) + ' s';
    if (a < 7200) return Math.floor(s / 60) + 'm ' + Math.round(s % 60) + 's';
    if (a < 172800) return Math.floor(s / 3600) + 'h ' + Math.round((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.round((s % 86400) / 3600) + 'h';
  }
  function fmtNum(v) {
    if (typeof v !== 'number') v = Number(v);
    if (!isFinite(v)) return String(v);
    if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(3);
    return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', {maximumFractionDigits: 3});
  }
  function fmtBytes(v) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(i === 0 ? 0 : 1) + ' ' + units[i];
  }
  function parseTime(t) {
    if (!t || t.startsWith('0001-01-01')) return null;
    const ms = Date.parse(t);
    return isNaN(ms) ? null : ms;
  }
  // "12s ago" with the absolute time as a tooltip; "never" for an empty or zero time.
  function ago(t) {
    const ms = parseTime(t);
    if (ms === null) return h('span', {class: 'muted'}, 'never');
    const s = Math.max(0, (Date.now() - ms) / 1000);
    return h('span', {title: new Date(ms).toISOString()}, (s < 1 ? 'just now' : fmtSeconds(Math.round(s)) + ' ago'));
  }
  function badge(state, text) {
    return h('span', {class: 'state ' + state}, text || state);
  }
  function labelChips(labels, skip) {
    return Object.keys(labels || {}).sort().filter((k) => !(skip || []).includes(k))
        .map((k) => h('span', {class: 'label mono'}, k + '="' + labels[k] + '"'));
  }
  function seriesName(metric) {
    const name = metric.__name__ || '';
    const rest = Object.keys(metric).filter((k) => k !== '__name__').sort()
        .map((k) => k + '=' + JSON.stringify(metric[k]));
    return name + (rest.length || !name ? '{' + rest.join(', ') + '}' : '');
  }
  // Only http(s) links; anything else (javascript:, data:) is shown as text.
  function safeUrl(u) {
    try {
      const url = new URL(u, location.href);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }
  function table(headers, rows, opts) {
    const o = opts || {};
    return h('table', {class: o.class},
        h('thead', {}, h('tr', {}, headers.map((c) => typeof c === 'string' ? h('th', {}, c) : c))),
        h('tbody', {}, rows));
  }
  function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }
  function empty(text) { return h('div', {class: 'empty'}, text); }
  function errorBox(e) { return h('div', {class: 'error'}, String(e.message || e)); }

  // ---- overview ----
  async function renderOverview(el) {
    const [collectors, alerts] = await Promise.all([api('/api/v1/collectors'), api('/api/v1/alerts').catch(() => null)]);
    const down = collectors.filter((c) => c.has_run && !c.up).length;
    const firing = alerts ? alerts.alerts.filter((a) => a.state === 'firing').length : 0;
    const pending = alerts ? alerts.alerts.filter((a) => a.state === 'pending').length : 0;
    const rows = collectors.map((c) => {
      const state = !c.has_run ? badge('unknown', 'not run yet') : c.up ? badge('up') : badge('down');
      return h('tr', {'data-collector': c.collector + '/' + c.target, 'data-up': c.has_run ? String(c.up) : 'unknown'},
          h('td', {}, c.collector), h('td', {class: 'mono'}, c.target), h('td', {class: 'collector-state'}, state),
          h('td', {class: 'num'}, c.has_run ? fmtSeconds(c.last_duration_seconds) : ''),
          h('td', {}, ago(c.last_success)), h('td', {}, ago(c.last_run)),
          h('td', {class: 'num'}, fmtNum(c.runs)), h('td', {class: 'num'}, fmtNum(c.failures)),
          h('td', {class: 'num'}, fmtNum(c.timeouts)), h('td', {class: 'num'}, fmtNum(c.series)),
          h('td', {class: 'error collector-error'}, c.last_error || ''));
    });
    fill(el,
        h('h2', {}, 'Collectors ', h('span', {class: 'group-meta'},
            `${collectors.length} instances, ${down} down · alerts: ${firing} firing, ${pending} pending`)),
        collectors.length ? table(['Kind', 'Target', 'State', 'Last duration', 'Last success', 'Last run', 'Runs',
          'Failures', 'Timeouts', 'Series', 'Last error'], rows, {class: 'collectors'}) : empty('No collectors configured.'));
  }

  // ---- alerts ----
  function annotationList(ann) {
    const keys = Object.keys(ann || {}).filter((k) => k !== 'runbook_url');
    keys.sort((a, b) => (a === 'summary' ? -1 : b === 'summary' ? 1 : a < b ? -1 : 1));
    if (!keys.length) return null;
    return h('dl', {class: 'annotations'}, keys.map((k) => [h('dt', {}, k), h('dd', {}, ann[k])]));
  }
  function runbook(ann) {
    const raw = ann && ann.runbook_url;
    if (!raw) return h('span', {class: 'muted'}, '—');
    const url = safeUrl(raw);
    return url ? h('a', {href: url, target: '_blank', rel: 'noopener noreferrer', class: 'runbook'}, 'runbook')
               : h('span', {class: 'mono'}, raw);
  }
  async function renderAlerts(el) {
    const data = await api('/api/v1/alerts');
    const parts = [];
    for (const state of ['firing', 'pending']) {
      const list = data.alerts.filter((a) => a.state === state)
          .sort((a, b) => (a.labels.alertname || '').localeCompare(b.labels.alertname || ''));
      parts.push(h('h2', {}, state === 'firing' ? 'Firing' : 'Pending', h('span', {class: 'group-meta'}, String(list.length))));
      if (!list.length) {
        parts.push(empty(`No ${state} alerts.`));
        continue;
      }
      parts.push(table(['Alert', 'State', 'Labels', 'Annotations', 'Active since', 'Value', 'Runbook'], list.map((a) =>
        h('tr', {class: 'alert', 'data-alertname': a.labels.alertname || ''},
            h('td', {class: 'alertname'}, h('strong', {}, a.labels.alertname || '')), h('td', {}, badge(a.state)),
            h('td', {}, labelChips(a.labels, ['alertname'])), h('td', {}, annotationList(a.annotations)),
            h('td', {}, ago(a.activeAt)), h('td', {class: 'num mono'}, a.value), h('td', {}, runbook(a.annotations)))),
      {class: 'alerts ' + state}));
    }
    fill(el, parts);
  }

  // ---- rules ----
  async function renderRules(el) {
    const data = await api('/api/v1/rules');
    if (!data.groups.length) return fill(el, empty('No rule files loaded (rule_files in the config).'));
    fill(el, data.groups.map((g) => [
      h('h2', {}, g.name, h('span', {class: 'group-meta'},
          `${g.file} · every ${fmtSeconds(g.interval)} · last evaluation `, ago(g.lastEvaluation),
          ` · took ${fmtSeconds(g.evaluationTime)}`)),
      table(['Rule', 'Type', 'Health', 'State', 'Query', 'Last evaluation', 'Duration', 'Last error'], g.rules.map((r) =>
        h('tr', {class: 'rule', 'data-rule': r.name},
            h('td', {}, h('strong', {}, r.name)), h('td', {}, r.type),
            h('td', {}, badge(r.health === 'ok' ? 'ok' : r.health === 'err' ? 'err' : 'unknown', r.health)),
            h('td', {}, r.type === 'alerting' ? badge(r.state) : ''),
            h('td', {}, h('pre', {}, r.query)), h('td', {}, ago(r.lastEvaluation)),
            h('td', {class: 'num'}, fmtSeconds(r.evaluationTime)), h('td', {class: 'error'}, r.lastError || ''))),
      {class: 'rules'}),
    ]));
  }

  // ---- top statements ----
  const RANKINGS = [
    ['calls', 'Calls', fmtNum], ['total_exec_seconds', 'Total time', fmtSeconds],
    ['mean_exec_seconds', 'Mean time', fmtSeconds], ['rows', 'Rows', fmtNum],
    ['shared_blks_read', 'Blocks read', fmtNum], ['shared_blks_hit', 'Blocks hit', fmtNum],
    ['temp_blks_written', 'Temp written', fmtNum],
  ];
  const stmtState = {sort: 'total_exec_seconds', expanded: new Set()};
  async function renderStatements(el) {
    const data = await api('/api/v1/postgres/statements');
    if (!data.length) return fill(el, empty('No PostgreSQL target has statements (postgres collectors with pg_stat_statements).'));
    fill(el, data.map((t) => {
      const list = (t.data || []).slice().sort((a, b) => (b[stmtState.sort] || 0) - (a[stmtState.sort] || 0));
      const interval = list.length ? list[0].interval_seconds : null;
      const head = [h('th', {}, 'Database'), h('th', {}, 'User'), ...RANKINGS.map(([key, label]) =>
        h('th', {class: 'num sortable' + (key === stmtState.sort ? ' sorted' : ''), 'data-sort': key,
          title: 'Sort by ' + label.toLowerCase(),
          onclick: () => { stmtState.sort = key; renderStatements(el).catch((e) => fill(el, errorBox(e))); }}, label)),
        h('th', {}, 'Statement')];
      const rows = [];
      for (const s of list) {
        const id = [t.target, s.datname, s.user, s.queryid, s.toplevel].join('\u0000');
        const open = stmtState.expanded.has(id);
        rows.push(h('tr', {class: 'expandable statement', 'data-queryid': s.queryid, title: 'Show the full text',
          onclick: () => {
            if (stmtState.expanded.has(id)) stmtState.expanded.delete(id); else stmtState.expanded.add(id);
            renderStatements(el).catch((e) => fill(el, errorBox(e)));
          }},
        h('td', {}, s.datname), h('td', {}, s.user),
        RANKINGS.map(([key, , f]) => h('td', {class: 'num'}, f(s[key]))),
        h('td', {}, h('div', {class: 'trunc mono'}, (open ? '▾ ' : '▸ ') + (s.query || '(text not read yet)')))));
        if (open) {
          rows.push(h('tr', {class: 'detail'}, h('td', {colspan: RANKINGS.length + 3},
              h('div', {class: 'muted'}, `queryid ${s.queryid} · ${s.toplevel ? 'top level' : 'nested'} · per ` +
                  `${fmtSeconds(s.interval_seconds)} interval`),
              h('pre', {class: 'statement-text'}, s.query || ''))));
        }
      }
      return [h('h2', {}, 'Target ', h('span', {class: 'mono'}, t.target), h('span', {class: 'group-meta'},
        interval ? `${plural(list.length, 'statement')} over the last ${fmtSeconds(interval)}; click a row for its text` : '')),
      list.length ? table(head, rows, {class: 'statements'}) :
        empty('No statements yet: the first statements interval has not ended, or nothing ran.')];
    }));
  }

  // ---- blocking ----
  async function renderBlocking(el) {
    const data = await api('/api/v1/postgres/blocking');
    if (!data.length) return fill(el, empty('No PostgreSQL target.'));
    fill(el, data.map((t) => {
      const d = t.data || {};
      const waiting = d.waiting || [];
      const blockers = new Map((d.blockers || []).map((b) => [b.pid, b]));
      const who = (pid) => {
        const b = blockers.get(pid);
        return h('div', {class: 'blocker'}, h('strong', {}, 'pid ' + pid),
            b ? ` ${b.user}@${b.datname} (${b.application_name || 'no application'}, ${b.state || '?'}, ` +
                `transaction open ${fmtSeconds(b.xact_seconds)})` : '',
            b && b.query ? h('pre', {}, b.query) : null);
      };
      return [h('h2', {}, 'Target ', h('span', {class: 'mono'}, t.target),
          h('span', {class: 'group-meta'}, plural(waiting.length, 'session') + ' waiting for a lock')),
      waiting.length ? table(['Waiting pid', 'Database', 'User / application', 'Waiting for', 'Lock', 'Query',
        'Blocked by'], waiting.map((w) => h('tr', {class: 'waiter', 'data-pid': w.pid},
          h('td', {class: 'num'}, String(w.pid)), h('td', {}, w.datname),
          h('td', {}, w.user, h('div', {class: 'muted'}, w.application_name || '')),
          h('td', {class: 'num'}, fmtSeconds(w.wait_seconds)),
          h('td', {}, w.mode, h('div', {class: 'muted'}, w.locktype + (w.relation ? ' on ' + w.relation : ''))),
          h('td', {}, h('pre', {}, w.query)), h('td', {}, (w.blocked_by || []).map(who)))), {class: 'blocking'}) :
        empty('No session is waiting for a lock.')];
    }));
  }

  // ---- charts ----
  const CHARTS = [
    {title: 'Request latency p95', unit: 's',
      query: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))'},
    {title: 'Cache hit ratio (application, by key group)', unit: 'ratio',
      query: 'sum by (group) (rate(cache_requests_total{result="hit"}[1m])) / sum by (group) (rate(cache_requests_total[1m]))'},
    {title: 'Redis keyspace hit ratio', unit: 'ratio',
      query: 'sum by (target) (rate(redis_keyspace_hits_total[1m])) / (sum by (target) (rate(redis_keyspace_hits_total[1m])) + sum by (target) (rate(redis_keyspace_misses_total[1m])))'},
    {title: 'Connection pool usage', unit: 'ratio',
      query: 'sum by (pool_name) (db_client_connection_count{state="used"}) / sum by (pool_name) (db_client_connection_max)'},
    {title: 'Resident memory by process group', unit: 'bytes',
      query: 'namedprocess_namegroup_memory_bytes{memtype="resident"}'},
    {title: 'Threads by process group', unit: 'count', query: 'namedprocess_namegroup_num_threads'},
  ];
  const fmtUnit = {s: fmtSeconds, bytes: fmtBytes, count: fmtNum,
    ratio: (v) => (v * 100).toFixed(1) + ' %'};
  function legendName(metric) {
    const keys = Object.keys(metric).filter((k) => k !== '__name__');
    return keys.length ? keys.sort().map((k) => k + '=' + metric[k]).join(', ') : 'value';
  }
  function sparkline(result, start, end, step, fmt) {
    const W = 400, H = 90, pad = 4;
    let lo = Infinity, hi = -Infinity;
    for (const s of result) {
      for (const [, v] of s.values) {
        const x = Number(v);
        if (isFinite(x)) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
      }
    }
    const max = hi;
    if (lo > 0) lo = 0;
    hi = hi > lo ? hi + (hi - lo) * 0.15 : lo + 1;  // headroom: a flat line stays visible
    const el = svg('svg', {viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img'});
    for (const f of [0, 0.5, 1]) {
      const y = pad + (H - 2 * pad) * f;
      el.appendChild(svg('line', {x1: 0, x2: W, y1: y, y2: y, class: 'grid', 'stroke-width': 0.5}));
    }
    result.forEach((s, i) => {
      let pts = [], prev = null, last = null;
      const flush = () => {
        if (pts.length === 1) pts.push(pts[0]);  // a single point still shows
        if (pts.length) {
          el.appendChild(svg('polyline', {points: pts.join(' '), fill: 'none', stroke: COLORS[i % COLORS.length],
            'stroke-width': 1.5, 'vector-effect': 'non-scaling-stroke'}));
        }
        pts = [];
      };
      for (const [t, v] of s.values) {
        const x = Number(v);
        if (!isFinite(x) || (prev !== null && t - prev > step * 1.5)) flush();
        if (isFinite(x)) {
          const px = ((t - start) / (end - start)) * W;
          const py = pad + (H - 2 * pad) * (1 - (x - lo) / (hi - lo));
          pts.push(px.toFixed(1) + ',' + py.toFixed(1));
          last = [px, py];
        }
        prev = t;
      }
      flush();
      // The latest point as a dot, so a series that began a moment ago is visible too.
      if (last) el.appendChild(svg('circle', {cx: last[0].toFixed(1), cy: last[1].toFixed(1), r: 2.5, fill: COLORS[i % COLORS.length]}));
    });
    const title = svg('title', {});
    title.textContent = `max ${fmt(max)}`;
    el.appendChild(title);
    return {el, max};
  }
  async function renderChart(box, c, start, end, step) {
    let result;
    try {
      const q = new URLSearchParams({query: c.query, start, end, step});
      const data = await api('/api/v1/query_range?' + q);
      result = data.result || [];
    } catch (e) {
      return fill(box, h('h3', {}, c.title), errorBox(e));
    }
    const fmt = fmtUnit[c.unit];
    const head = [h('h3', {}, c.title), h('div', {class: 'q mono'}, c.query)];
    const finite = (s) => s.values.some(([, v]) => isFinite(Number(v)));
    if (!result.some(finite)) {
      return fill(box, head, h('div', {class: 'empty no-data'}, 'No data in the last 15 minutes.'));
    }
    const shown = result.slice(0, COLORS.length);
    const {el, max} = sparkline(shown, start, end, step, fmt);
    fill(box, head, el, h('div', {class: 'legend'},
        h('div', {class: 'muted'}, `max ${fmt(max)} · last 15 minutes`),
        shown.map((s, i) => {
          const last = Number(s.values.length ? s.values[s.values.length - 1][1] : NaN);
          return h('div', {}, h('span', {class: 'sw c' + i}), legendName(s.metric) + ': ',
              h('strong', {}, isFinite(last) ? fmt(last) : 'no value'));
        }),
        result.length > shown.length ? h('div', {class: 'muted'}, `and ${result.length - shown.length} more series`) : null));
  }
  async function renderCharts(el) {
    const step = 15;
    const end = Math.floor(Date.now() / 1000);
    const start = end - 900;
    if (!el.querySelector('.charts')) {
      fill(el, h('div', {class: 'charts'}, CHARTS.map((c) => h('div', {class: 'chart', 'data-chart': c.title},
          h('h3', {}, c.title), h('div', {class: 'muted'}, 'loading…')))));
    }
    const boxes = el.querySelectorAll('.chart');
    await Promise.all(CHARTS.map((c, i) => renderChart(boxes[i], c, start, end, step)));
  }

  // ---- query ----
  let lastExpr = null;  // the query shown, so a route to the same #query?expr= does not re-run it
  async function runQuery(expr) {
    lastExpr = expr;
    const out = $('query-result');
    $('query-input').value = expr;
    if (!expr.trim()) return fill(out);
    fill(out, h('div', {class: 'muted'}, 'running…'));
    const t0 = performance.now();
    let data;
    try {
      data = await api('/api/v1/query?' + new URLSearchParams({query: expr}));
    } catch (e) {
      return fill(out, h('div', {class: 'error query-error'}, 'Error: ' + e.message));
    }
    const took = `${data.resultType} · ${(performance.now() - t0).toFixed(0)} ms`;
    let body;
    if (data.resultType === 'vector') {
      body = data.result.length ? table(['Series', h('th', {class: 'num'}, 'Value')], data.result.map((s) =>
        h('tr', {class: 'result-row'}, h('td', {class: 'mono'}, seriesName(s.metric)), h('td', {class: 'num mono'}, s.value[1]))),
      {class: 'query-result'}) : empty('Empty result: no series match.');
    } else if (data.resultType === 'matrix') {
      body = data.result.length ? table(['Series', 'Values'], data.result.map((s) =>
        h('tr', {class: 'result-row'}, h('td', {class: 'mono'}, seriesName(s.metric)),
            h('td', {class: 'mono'}, s.values.map(([t, v]) => `${v} @${t}`).join('\n')))), {class: 'query-result'}) :
        empty('Empty result: no series match.');
    } else {
      body = table(['Value'], [h('tr', {class: 'result-row'}, h('td', {class: 'mono'}, String(data.result[1])))], {class: 'query-result'});
    }
    fill(out, h('div', {class: 'muted'}, `${data.result.length !== undefined && data.resultType !== 'scalar' &&
      data.resultType !== 'string' ? data.result.length + ' series · ' : ''}${took}`), body);
  }

  // ---- routing and refresh ----
  const TABS = {overview: renderOverview, alerts: renderAlerts, rules: renderRules, statements: renderStatements,
    blocking: renderBlocking, charts: renderCharts, query: null};
  let current = null, timer = null, generation = 0;
  function route() {
    const [name, params] = location.hash.replace(/^#/, '').split('?');
    const tab = name in TABS ? name : 'overview';
    for (const t of Object.keys(TABS)) $(t).hidden = t !== tab;
    for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.tab === tab);
    document.title = 'vigil · ' + document.querySelector(`#tabs a[data-tab="${tab}"]`).textContent;
    current = tab;
    if (tab === 'query') {
      const expr = new URLSearchParams(params || '').get('expr');
      if (expr !== null && expr !== lastExpr) runQuery(expr);
      $('query-input').focus();
    }
    refresh();
  }
  async function refresh() {
    clearTimeout(timer);
    const tab = current, gen = ++generation;
    if (TABS[tab]) {
      const el = $(tab);
      if (!el.firstChild) fill(el, h('div', {class: 'muted'}, 'loading…'));
      try {
        await TABS[tab](el);
        fill($('updated'), 'updated ' + new Date().toLocaleTimeString());
      } catch (e) {
        if (gen === generation) fill(el, errorBox(e));
      }
    }
    if (gen === generation) timer = setTimeout(refresh, tab === 'charts' ? 3 * REFRESH_MS : REFRESH_MS);
  }
  $('query-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const expr = $('query-input').value;
    const hash = '#query?' + new URLSearchParams({expr});
    if (location.hash === hash) runQuery(expr); else location.hash = hash;
  });
  window.addEventListener('hashchange', route);
  route();
})();
