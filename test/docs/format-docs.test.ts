import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKFILL_MIGRATION } from '../../src/backfill/index.js';
import { openState } from '../../src/state/index.js';
import { CONSISTENCY_DEFINITION, metricsReportSchema, queriesReportSchema } from '../../src/verify/index.js';
import { MigrationFileSchema, parseMigrationText, stepKind, stepKindNames } from '../../src/migrate/index.js';
import { tempDir } from '../harness/index.js';

/**
 * The pages of docs/format/ describe formats stackshift owns; these checks fail when the code and the page
 * drift apart: a table or column, a report field, a step kind or param, or the example that no longer parses.
 * Fix the page (or the code), never the check. Run from the repository root (as scripts/run-tests.mjs does).
 */

const read = (p: string) => readFileSync(p, 'utf8');
const BACKFILL = read('docs/format/backfill-state.md');
const VERIFY = read('docs/format/verify-report.md');
const MIGRATION = read('docs/format/migration-file.md');

/** The text from the heading line that equals `heading` to the next heading of the same or a higher level. */
function section(doc: string, heading: string): string {
  const lines = doc.split('\n');
  const i = lines.findIndex((l) => l.trim() === heading);
  assert.ok(i >= 0, `the page has a heading "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  let j = i + 1;
  while (j < lines.length && !(/^#+ /.test(lines[j]) && /^#+/.exec(lines[j])![0].length <= level)) j++;
  return lines.slice(i, j).join('\n');
}

const named = (text: string, name: string) => text.includes(`\`${name}\``);

test('backfill-state.md names every table and column the backfill state schema creates, each in its table\'s section', (t) => {
  const db = openState(join(tempDir(t), 'state.db'), [BACKFILL_MIGRATION]);
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    assert.ok(tables.includes('backfill_units') && tables.includes('state_lease') && tables.includes('schema_versions'), tables.join(', '));
    for (const table of tables) {
      const s = section(BACKFILL, `### \`${table}\``);
      const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
      assert.ok(columns.length > 0);
      for (const c of columns) assert.ok(s.includes(`| \`${c}\` |`), `column ${table}.${c} has a row in the "### \`${table}\`" table of docs/format/backfill-state.md`);
    }
    const version = (db.prepare("SELECT version FROM schema_versions WHERE module = 'backfill'").get() as { version: number }).version;
    assert.match(section(BACKFILL, '### `schema_versions`'), new RegExp(`\`backfill\` is at version ${version}\\b`));
  } finally {
    db.close();
  }
});

test('backfill-state.md names every key of the plan fingerprints (backfill metrics and backfill blocks)', () => {
  const s = section(BACKFILL, '## Plan fingerprint');
  const metrics = /function fingerprint\([\s\S]*?const key = \{([\s\S]*?)\n\s*\};/.exec(read('src/backfill/plan.ts'));
  assert.ok(metrics, 'fingerprint() in src/backfill/plan.ts builds `const key = {...}`');
  const keys = [...metrics[1].matchAll(/^\s*(\w+):/gm)].map((m) => m[1]);
  assert.ok(keys.length >= 5, keys.join(', '));
  for (const k of keys) assert.ok(s.includes(`| \`${k}\` |`), `fingerprint key ${k} has a row in "## Plan fingerprint"`);
  const blocks = /const key = \{\s*kind: 'blocks',([\s\S]*?)\n\s*\};/.exec(read('src/blocks/run.ts'));
  assert.ok(blocks, 'runBlocks in src/blocks/run.ts builds `const key = { kind: \'blocks\', ... }`');
  const blockKeys = ['kind', ...[...blocks[1].matchAll(/^\s*(\w+):/gm)].map((m) => m[1])];
  for (const k of blockKeys) assert.ok(named(s, k), `blocks fingerprint key ${k} is named in "## Plan fingerprint"`);
});

/** Every property name anywhere in a JSON Schema, by nesting depth 0 (top level) and deeper. */
function propertyNames(schema: unknown): { top: string[]; nested: Set<string> } {
  const top = Object.keys((schema as { properties: object }).properties);
  const nested = new Set<string>();
  const walk = (node: unknown, depth: number) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.properties && typeof n.properties === 'object') {
      for (const [k, v] of Object.entries(n.properties)) {
        if (depth > 0) nested.add(k);
        walk(v, depth + 1);
      }
    }
    if (n.items) walk(n.items, depth + 1);
    if (n.additionalProperties && typeof n.additionalProperties === 'object') walk(n.additionalProperties, depth + 1);
  };
  walk(schema, 0);
  return { top, nested };
}

test('verify-report.md documents every property of both report schemas, top-level ones in their table', () => {
  for (const [heading, schema] of [['## `verify metrics`', metricsReportSchema], ['## `verify queries`', queriesReportSchema]] as const) {
    const s = section(VERIFY, heading);
    const { top, nested } = propertyNames(schema);
    for (const k of top) assert.ok(s.includes(`| \`${k}\` |`), `${schema.$id}: top-level property ${k} has a row in "${heading}"`);
    for (const k of nested) assert.ok(named(s, k), `${schema.$id}: property ${k} is named in "${heading}"`);
    assert.ok(VERIFY.includes(schema.$id), `the page gives the schema id ${schema.$id}`);
  }
});

test('verify-report.md states consistency as the README does and quotes the report\'s definition verbatim', () => {
  const readme = read('README.md');
  const whatItMeans = section(readme, '#### What "consistency" means');
  const formula = 'consistency = matched / (expected + unexpected)';
  assert.ok(whatItMeans.includes(formula), 'the README still states the formula');
  const s = section(VERIFY, '## What consistency means');
  assert.ok(s.includes(formula));
  // the README's bullets, word for word up to the first full stop (line breaks aside), are on the page
  const flat = (x: string) => x.replace(/\s+/g, ' ');
  const bullets = [...whatItMeans.matchAll(/^- \*\*(\w+)\*\*: ([^.]+)\./gm)];
  assert.ok(bullets.length >= 3, 'the README defines expected, matched and unexpected');
  for (const m of bullets) assert.ok(flat(s).includes(flat(`**${m[1]}**: ${m[2]}.`)), `README's "${m[1]}" bullet is on the page`);
  assert.ok(s.includes(CONSISTENCY_DEFINITION), 'CONSISTENCY_DEFINITION is quoted verbatim');
});

/** The default a zod field fills in, or undefined when it has none. */
function defaultOf(field: { safeParse(v: unknown): { success: boolean; data?: unknown } }): unknown {
  const r = field.safeParse(undefined);
  return r.success ? r.data : undefined;
}

test('migration-file.md has a section per registered step kind with every param (and its default), figure and default gate', () => {
  const kinds = stepKindNames();
  assert.ok(kinds.length >= 13, kinds.join(', '));
  for (const name of kinds) {
    const kind = stepKind(name)!;
    const s = section(MIGRATION, `### \`${name}\``);
    const shape = (kind.params as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }> }).shape;
    assert.ok(shape, `${name}: params is a zod object`);
    for (const [param, field] of Object.entries(shape)) {
      const row = s.split('\n').find((l) => l.startsWith(`| \`${param}\` |`));
      assert.ok(row, `${name}: param ${param} has a row in its section`);
      const d = defaultOf(field);
      if (d === undefined || typeof d === 'object') continue;
      const cell = row.split('|')[3] ?? '';
      const numbers = [...cell.matchAll(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g)].map((m) => Number(m[0]));
      assert.ok(cell.includes(String(d)) || (typeof d === 'number' && numbers.includes(d)), `${name}: param ${param} defaults to ${String(d)}; the page says "${cell.trim()}"`);
    }
    for (const f of kind.figures) assert.ok(named(s, f), `${name}: figure ${f} is named`);
    for (const g of kind.defaultGates) assert.ok(named(s, g), `${name}: default gate "${g}" is named`);
  }
  const top = section(MIGRATION, '## Top level');
  for (const k of Object.keys(MigrationFileSchema.shape)) assert.ok(top.includes(`| \`${k}\` |`), `top-level key ${k} has a row`);
  const steps = section(MIGRATION, '### `phases[].steps[]`');
  for (const k of ['id', 'kind', 'title', 'params', 'gates']) assert.ok(steps.includes(`| \`${k}\` |`), `step key ${k} has a row`);
});

test('the example in migration-file.md parses through the real loader', (t) => {
  const m = /```yaml\n([\s\S]*?)```/.exec(section(MIGRATION, '## Example'));
  assert.ok(m, 'the Example section holds a yaml block');
  const file = join(tempDir(t), 'stackshift-migration.yaml');
  const plan = parseMigrationText(m[1], file, [], { GRAFANA_TOKEN: 'glsa_example' });
  assert.equal(plan.name, 'lgtm-migration');
  assert.equal(plan.phases.length, 3);
  assert.deepEqual(plan.steps.map((s) => s.kind), ['backfill-metrics', 'verify-metrics', 'dashboards-migrate', 'gate', 'wait']);
  assert.deepEqual(plan.steps.find((s) => s.id === 'dashboards')!.gates.map((g) => g.text), ['incomplete == 0', 'remaining == 0'], 'a step without gates gets its kind\'s defaults');
  assert.equal(plan.endpoints.grafana.bearer_token, 'glsa_example');
});

test('the code that owns each format links its page, and DEVELOPING.md links all three', () => {
  const pages: Array<[string, string]> = [['src/backfill/state.ts', 'docs/format/backfill-state.md'], ['src/verify/schema.ts', 'docs/format/verify-report.md'], ['src/migrate/file.ts', 'docs/format/migration-file.md']];
  const dev = read('docs/DEVELOPING.md');
  for (const [code, page] of pages) {
    assert.match(read(code).split('\n').slice(0, 3).join('\n'), new RegExp(`^// .*${page.replace(/[.]/g, '\\.')}`, 'm'), `${code} links ${page} at its top`);
    assert.ok(dev.includes(`(${page.replace(/^docs\//, '')})`), `docs/DEVELOPING.md links ${page}`);
  }
});
