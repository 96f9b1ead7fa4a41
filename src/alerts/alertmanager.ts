import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StackshiftError, UsageError } from '../errors/index.js';
import { parseSelector } from '../promql/index.js';

/**
 * Alertmanager configs checked by the real tool: `amtool check-config` (the validator Alertmanager itself
 * uses to load a file) and `amtool config routes test`, which resolves a label set through the routing
 * tree to the receivers it reaches. With two configs (the running one and the one moving to Mimir's
 * Alertmanager) every label set is routed through both, and an alert that would reach other receivers is a
 * finding.
 */
export interface ConfigCheck {
  file: string;
  ok: boolean;
  output: string;
  summary: string[];
}

export interface RouteResult {
  labels: Record<string, string>;
  receivers: string[];
  against?: string[];
  differs: boolean;
}

export interface AlertmanagerCheckReport {
  amtool: string;
  version: string;
  checks: ConfigCheck[];
  routes: RouteResult[];
  exitCode: 0 | 1;
}

function run(bin: string, args: string[]): { code: number; out: string; stdout: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error)
    throw new UsageError(
      `amtool ${bin}: cannot run it (${r.error.message})`,
      'pass --amtool with the path of amtool (it ships with Alertmanager)',
    );
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

export function amtoolVersion(bin: string): string {
  const r = run(bin, ['--version']);
  return /version (\S+)/.exec(r.out)?.[1] ?? 'unknown';
}

export function checkConfig(bin: string, file: string): ConfigCheck {
  if (!existsSync(file)) throw new UsageError(`${file}: no such Alertmanager config file`);
  const r = run(bin, ['check-config', file]);
  const ok = r.code === 0 && /SUCCESS/.test(r.out);
  const summary = r.out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^- /.test(l))
    .map((l) => l.slice(2));
  return { file, ok, output: r.out.trim(), summary };
}

/** A label set written as `a=b,c=d` or as a selector `{a="b", c="d"}`. */
export function parseLabelSet(text: string): Record<string, string> {
  const s = text.trim();
  const out: Record<string, string> = {};
  if (s.startsWith('{')) {
    let matchers;
    try {
      matchers = parseSelector(s);
    } catch (e) {
      throw new UsageError(
        `--alert ${text}: ${(e as Error).message}`,
        'write a label set as alertname=X,severity=page or {alertname="X",severity="page"}',
      );
    }
    for (const m of matchers) {
      if (m.type !== 'EQ') throw new UsageError(`--alert ${text}: only name="value" pairs make an alert's labels`);
      out[m.name] = m.value;
    }
  } else {
    for (const part of s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(part);
      if (!m)
        throw new UsageError(
          `--alert ${text}: "${part}" is not name=value`,
          'write a label set as alertname=X,severity=page or {alertname="X",severity="page"}',
        );
      out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
    }
  }
  if (!Object.keys(out).length) throw new UsageError(`--alert ${text}: no labels`);
  return out;
}

/** The receivers a label set reaches in one config, in routing order (amtool config routes test). */
export function routeLabels(bin: string, file: string, labels: Record<string, string>): string[] {
  const args = [
    'config',
    'routes',
    'test',
    `--config.file=${file}`,
    ...Object.keys(labels)
      .sort()
      .map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`),
  ];
  const r = run(bin, args);
  // the receivers are amtool's last line on stdout; stderr holds warnings (--config.file overrides --alertmanager.url)
  const lines = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^WARNING/i.test(l));
  if (r.code !== 0 || !lines.length)
    throw new StackshiftError(
      'amtool',
      `amtool config routes test failed for ${JSON.stringify(labels)} on ${file}: ${r.out.trim().slice(0, 300)}`,
      { hint: 'run `amtool check-config` on the file first' },
    );
  const last = lines[lines.length - 1]!;
  // "a,b[alertname,job]": receivers split on commas outside the grouping brackets
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of last) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out.map((x) => x.replace(/\[.*\]$/, '').trim()).filter(Boolean);
}

export function checkAlertmanager(p: {
  amtool: string;
  config: string;
  against?: string;
  alerts: Array<Record<string, string>>;
}): AlertmanagerCheckReport {
  const version = amtoolVersion(p.amtool);
  const checks = [checkConfig(p.amtool, p.config)];
  if (p.against) checks.push(checkConfig(p.amtool, p.against));
  const routes: RouteResult[] = [];
  if (checks.every((c) => c.ok)) {
    for (const labels of p.alerts) {
      const receivers = routeLabels(p.amtool, p.config, labels);
      const against = p.against ? routeLabels(p.amtool, p.against, labels) : undefined;
      routes.push({
        labels,
        receivers,
        against,
        differs: against !== undefined && JSON.stringify(against) !== JSON.stringify(receivers),
      });
    }
  }
  const exitCode = checks.every((c) => c.ok) && !routes.some((r) => r.differs) ? 0 : 1;
  return { amtool: p.amtool, version, checks, routes, exitCode };
}

function labelsText(l: Record<string, string>): string {
  return `{${Object.keys(l)
    .sort()
    .map((k) => `${k}="${l[k]}"`)
    .join(', ')}}`;
}

export function renderAlertmanagerCheckText(r: AlertmanagerCheckReport): string {
  const out: string[] = [];
  for (const c of r.checks) {
    out.push(`amtool ${r.version} check-config ${c.file}: ${c.ok ? 'SUCCESS' : 'FAILED'}`);
    if (c.ok && c.summary.length) out.push(`  ${c.summary.join('; ')}`);
    if (!c.ok) for (const l of c.output.split('\n')) out.push(`  ${l}`);
  }
  if (r.routes.length) {
    out.push('', r.checks.length > 1 ? `routing (${r.checks[0]!.file} | ${r.checks[1]!.file}):` : 'routing:');
    for (const x of r.routes) {
      out.push(
        `  ${x.differs ? '!' : ' '} ${labelsText(x.labels)} -> ${x.receivers.join(', ')}${x.against ? `  |  ${x.against.join(', ')}${x.differs ? '  (differs)' : ''}` : ''}`,
      );
    }
  }
  out.push(
    '',
    r.exitCode === 0
      ? 'PASS'
      : `FAIL: ${r.checks.some((c) => !c.ok) ? 'a config does not pass amtool check-config' : `${r.routes.filter((x) => x.differs).length} alert(s) reach other receivers`}`,
  );
  return out.join('\n') + '\n';
}
