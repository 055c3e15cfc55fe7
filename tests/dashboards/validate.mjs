// Validates dashboards/*.json against Grafana's own types from @grafana/schema (the version
// pinned in package.json): the dashboard model, each Prometheus query, and the options and
// custom field config of each panel type used. The TypeScript types are converted to JSON
// schemas with ts-json-schema-generator (strict: unknown properties are errors), checked with ajv.
//   node validate.mjs DASHBOARD_DIR [SCHEMA_CACHE_DIR]
import fs from 'node:fs';
import path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';
import Ajv from 'ajv';

const dir = process.argv[2];
const cache = process.argv[3] || fs.mkdtempSync('/tmp/vigil-schema-');
fs.mkdirSync(cache, { recursive: true });
const raw = path.resolve('node_modules/@grafana/schema/dist/esm/raw');
const version = JSON.parse(fs.readFileSync('node_modules/@grafana/schema/package.json')).version;

function schemaFor(file, type) {
  const out = path.join(cache, `${version}-${path.basename(file)}-${type}.json`);
  if (fs.existsSync(out)) return JSON.parse(fs.readFileSync(out));
  const schema = createGenerator({ path: path.join(raw, file), type, skipTypeCheck: true,
                                   additionalProperties: false }).createSchema(type);
  fs.writeFileSync(out, JSON.stringify(schema));
  return schema;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const check = {
  dashboard: ajv.compile(schemaFor('dashboard/x/dashboard_types.gen.d.ts', 'Dashboard')),
  query: ajv.compile(schemaFor('composable/prometheus/dataquery/x/PrometheusDataQuery_types.gen.d.ts', 'PrometheusDataQuery')),
};
const panelTypes = {
  timeseries: 'composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen.d.ts',
  stat: 'composable/stat/panelcfg/x/StatPanelCfg_types.gen.d.ts',
  table: 'composable/table/panelcfg/x/TablePanelCfg_types.gen.d.ts',
};
for (const [t, file] of Object.entries(panelTypes)) {
  check[`${t}.options`] = ajv.compile(schemaFor(file, 'Options'));
  if (t !== 'stat') check[`${t}.custom`] = ajv.compile(schemaFor(file, 'FieldConfig'));
}

let failures = 0;
function validate(what, fn, value) {
  if (fn(value)) return;
  failures++;
  for (const e of fn.errors) console.error(`${what}${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`);
}

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
if (files.length === 0) { console.error(`no dashboards in ${dir}`); process.exit(1); }
let panels = 0;
for (const f of files) {
  const d = JSON.parse(fs.readFileSync(path.join(dir, f)));
  validate(f, check.dashboard, d);
  const ids = new Set();
  for (const p of d.panels || []) {
    if (ids.has(p.id)) { failures++; console.error(`${f}: duplicate panel id ${p.id}`); }
    ids.add(p.id);
    if (p.type === 'row') continue;
    panels++;
    const where = `${f} panel "${p.title}"`;
    if (!panelTypes[p.type]) { failures++; console.error(`${where}: panel type ${p.type} not checked`); continue; }
    validate(`${where} options`, check[`${p.type}.options`], p.options || {});
    if (check[`${p.type}.custom`]) validate(`${where} fieldConfig.defaults.custom`, check[`${p.type}.custom`], p.fieldConfig?.defaults?.custom || {});
    for (const t of p.targets || []) validate(`${where} target ${t.refId}`, check.query, t);
    if (!p.targets?.length) { failures++; console.error(`${where}: no queries`); }
  }
}
console.log(`@grafana/schema ${version}: ${files.length} dashboards, ${panels} panels, ${failures} problems`);
process.exit(failures ? 1 : 0);
