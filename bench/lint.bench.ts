/**
 * Benchmark: `stackshift lint prom3` over 10,000 rules and 500 dashboards must finish in under 5 s.
 * Baseline, measured in the same run on the same files: parse-only (read every file, parse YAML and
 * JSON, parse every PromQL expression with the lezer grammar) - the floor any linter of these files pays.
 * Prints lint time, the ratio to the baseline, throughput and peak heap.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parser } from '@prometheus-io/lezer-promql';
import { fixFiles, lintFiles } from '../src/lint/index.js';

const RULES = Number(process.env.BENCH_RULES ?? 10_000);
const DASHBOARDS = Number(process.env.BENCH_DASHBOARDS ?? 500);
const RULE_FILES = 20;
const LIMIT_MS = 5_000;

const EXPRS = [
  'sum by (job) (rate(http_requests_total{job="api", code=~"5.."}[5m])) / sum by (job) (rate(http_requests_total{job="api"}[5m])) > 0.05',
  'histogram_quantile(0.99, sum by (le, service) (rate(request_duration_seconds_bucket{le!="+Inf"}[5m])))',
  'sum(rate(request_duration_seconds_bucket{le="1"}[5m])) / sum(rate(request_duration_seconds_count[5m]))',
  'holt_winters(sum(rate(node_network_receive_bytes_total[5m]))[1h:1m], 0.3, 0.3)',
  'max_over_time(up{job="node"}[10m]) == 0',
  'predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}[6h], 4 * 3600) < 0',
  'rpc_duration_seconds{quantile="1"} > 2',
  'label_replace(kube_pod_info, "node_name", "$1", "node", "(.+)\\\\.internal")',
  'rate(container_cpu_usage_seconds_total{container!=""}[1m:1m])',
  '(1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) * 100',
];
const PANEL_EXPRS = [
  'sum(rate(http_requests_total{job=~"$job", instance=~"$instance"}[$__rate_interval])) by (code)',
  'histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{job=~"$job"}[$__rate_interval])) by (le))',
  'sum(rate(http_request_duration_seconds_bucket{job=~"$job", le="0.5"}[$__rate_interval]))',
  'node_memory_MemAvailable_bytes{instance="$node"} / node_memory_MemTotal_bytes{instance="$node"}',
  'topk(10, sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="$namespace"}[$__rate_interval])))',
  'increase(kube_pod_container_status_restarts_total{namespace=~"$namespace"}[1h])',
];

function generate(dir: string): { files: string[]; exprs: number } {
  mkdirSync(join(dir, 'rules'), { recursive: true });
  mkdirSync(join(dir, 'dashboards'), { recursive: true });
  let exprs = 0;
  const perFile = Math.ceil(RULES / RULE_FILES);
  for (let f = 0; f < RULE_FILES; f++) {
    const lines = ['# generated for the lint benchmark', 'groups:'];
    for (let g = 0; g < perFile / 10; g++) {
      lines.push(`  - name: group-${f}-${g}`, '    rules:');
      for (let r = 0; r < 10 && exprs < RULES; r++, exprs++) {
        // every expression distinct (window lengths vary), as in a real rule set
        const e = EXPRS[(f + g + r) % EXPRS.length]
          .replace(/\[5m\]/g, `[${5 + (exprs % 55)}m]`)
          .replace(/"api"/g, `"api-${exprs}"`);
        if (r % 2)
          lines.push(
            `      - alert: Alert${f}_${g}_${r}`,
            `        expr: '${e.replace(/'/g, "''")}'`,
            '        for: 5m',
            '        labels:',
            '          severity: warning',
          );
        else lines.push(`      - record: job:metric_${f}_${g}_${r}:rate5m`, '        expr: |', `          ${e}`);
      }
    }
    writeFileSync(join(dir, 'rules', `rules-${f}.yml`), lines.join('\n') + '\n');
  }
  for (let d = 0; d < DASHBOARDS; d++) {
    const panel = (id: number) => ({
      id,
      type: 'timeseries',
      title: `Panel ${id}`,
      gridPos: { h: 8, w: 12, x: 0, y: id },
      datasource: { type: 'prometheus', uid: '${datasource}' },
      fieldConfig: {
        defaults: {
          unit: 'short',
          thresholds: {
            mode: 'absolute',
            steps: [
              { color: 'green', value: null },
              { color: 'red', value: 80 },
            ],
          },
        },
        overrides: [],
      },
      options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'single' } },
      targets: [0, 1].map((t) => ({
        refId: 'AB'[t],
        expr: PANEL_EXPRS[(id + t + d) % PANEL_EXPRS.length]
          .replace('$namespace', `$namespace_${d}`)
          .replace('[1h]', `[${1 + (d % 24)}h]`),
        legendFormat: '{{instance}}',
        interval: '',
      })),
    });
    const panels: unknown[] = [];
    for (let row = 0; row < 3; row++)
      panels.push({
        id: 1000 + row,
        type: 'row',
        title: `Row ${row}`,
        collapsed: row > 0,
        panels: row > 0 ? Array.from({ length: 8 }, (_, i) => panel(row * 100 + i)) : [],
      });
    for (let i = 0; i < 8; i++) panels.push(panel(i));
    const dash = {
      title: `Dashboard ${d}`,
      uid: `bench-${d}`,
      schemaVersion: 39,
      version: 1,
      editable: true,
      time: { from: 'now-6h', to: 'now' },
      templating: {
        list: [
          { name: 'datasource', type: 'datasource', query: 'prometheus' },
          {
            name: 'job',
            type: 'query',
            datasource: { type: 'prometheus', uid: '${datasource}' },
            query: { query: 'label_values(up, job)', refId: 'A' },
            refresh: 1,
          },
          {
            name: 'instance',
            type: 'query',
            datasource: { type: 'prometheus', uid: '${datasource}' },
            query: 'label_values(up{job=~"$job"}, instance)',
            refresh: 1,
          },
        ],
      },
      panels,
    };
    writeFileSync(join(dir, 'dashboards', `dash-${d}.json`), JSON.stringify(dash, null, 2));
  }
  const files = [
    ...readdirSync(join(dir, 'rules')).map((f) => join(dir, 'rules', f)),
    ...readdirSync(join(dir, 'dashboards')).map((f) => join(dir, 'dashboards', f)),
  ];
  return { files, exprs };
}

/** Baseline: read, parse YAML (yaml) and JSON (JSON.parse), parse every PromQL string with lezer; no analysis. */
function parseOnly(files: string[]): number {
  let n = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (f.endsWith('.json')) {
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object')
          for (const [k, x] of Object.entries(v))
            k === 'expr' && typeof x === 'string' ? (parser.parse(x), n++) : walk(x);
      };
      walk(JSON.parse(text));
    } else {
      for (const d of parseAllDocuments(text) as ReturnType<typeof parseAllDocuments> & unknown[]) {
        const groups = (d.toJS() as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups;
        for (const g of groups) for (const r of g.rules) (parser.parse(String(r.expr)), n++);
      }
    }
  }
  return n;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stackshift-bench-lint-'));
  try {
    const { files, exprs } = generate(dir);
    const bytes = files.reduce((s, f) => s + readFileSync(f).length, 0);
    // warm-up on a slice so JIT and module loading are not billed to either side
    parseOnly(files.slice(0, 5));
    await lintFiles(files.slice(0, 5), { to: '3.5.0' });

    let peakHeap = 0;
    const sampler = setInterval(() => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }, 20);
    const b0 = performance.now();
    const parsedExprs = parseOnly(files);
    const baseMs = performance.now() - b0;
    (globalThis as { gc?: () => void }).gc?.();
    const l0 = performance.now();
    const c0 = process.cpuUsage();
    const result = await lintFiles([dir], { from: '2.55.1', to: '3.5.0' });
    const lintMs = performance.now() - l0;
    const cpu = process.cpuUsage(c0);
    const lintCpuMs = (cpu.user + cpu.system) / 1000;
    clearInterval(sampler);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);

    const f0 = performance.now();
    const fixed = await fixFiles([dir], { from: '2.55.1', to: '3.5.0', stage: 'dual', dryRun: true });
    const fixMs = performance.now() - f0;

    const ok = lintMs < LIMIT_MS;
    console.log(
      `inputs: ${RULES} rules in ${RULE_FILES} files + ${DASHBOARDS} dashboards = ${(bytes / 1e6).toFixed(1)} MB, ${result.counts.expressions} PromQL expressions (${exprs} in rules)`,
    );
    console.log(
      `baseline parse-only (yaml + JSON.parse + lezer on ${parsedExprs} expressions): ${baseMs.toFixed(0)} ms`,
    );
    console.log(
      `lint prom3 (28 rules, positions, fixes): ${lintMs.toFixed(0)} ms wall (${lintCpuMs.toFixed(0)} ms CPU) = ${(lintMs / baseMs).toFixed(2)}x baseline, ${Math.round(result.counts.expressions / (lintMs / 1000))} expressions/s, ${result.findings.length} findings`,
    );
    console.log(
      `fix --dry-run (stage dual, ${fixed.passes} pass(es), ${fixed.files.length} files changed): ${fixMs.toFixed(0)} ms = ${(fixMs / baseMs).toFixed(2)}x baseline`,
    );
    console.log(`peak heap during lint: ${(peakHeap / 1048576).toFixed(0)} MiB`);
    console.log(
      `gate: lint < ${LIMIT_MS} ms: ${ok ? 'PASS' : 'FAIL'} (load average ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores)`,
    );
    if (!ok) process.exitCode = 1;
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(dir);
  }
}

await main();
