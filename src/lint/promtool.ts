import { spawnSync } from 'node:child_process';
import { dirname, isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors/index.js';
import type { FileInput, Loaded } from './inputs.js';

/**
 * What the real promtool of the target version says about the inputs (`lint prom3 --promtool PATH`):
 * `promtool check config` for every prometheus.yml (which also checks the rule files it names, TLS and
 * credential files), `promtool check rules` for rule files no config in the run names. Each complaint
 * becomes a finding at the file, line and column promtool names; when it names none, at the first place the
 * file holds a quoted name from the message ("missing.yml" does not point to an existing file), else line 1.
 */
export interface PromtoolFinding {
  file: FileInput | undefined;
  path: string;
  from: number;
  to: number;
  message: string;
}

export interface PromtoolReport {
  version: string;
  findings: PromtoolFinding[];
  checked: string[];
}

export function promtoolVersion(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0)
    throw new UsageError(
      `--promtool ${bin}: cannot run it (${r.error?.message ?? `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`})`,
      'name the promtool binary of the target version, e.g. --promtool /opt/prometheus-3.5.0/promtool',
    );
  return /version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

export function runPromtool(bin: string, loaded: Loaded, features: readonly string[] = []): PromtoolReport {
  const version = promtoolVersion(bin);
  const findings: PromtoolFinding[] = [];
  const checked: string[] = [];
  const featureArgs = features.length ? [`--enable-feature=${features.join(',')}`] : [];
  const configs = [...new Set(loaded.configs.map((c) => c.file.file))];
  const covered = new Set<string>();
  for (const file of configs) {
    const out = run(bin, ['check', 'config', ...featureArgs, file]);
    checked.push(file);
    for (const f of parseOutput(out, file, loaded)) findings.push(f);
    for (const m of out.matchAll(/^\s*Checking (.+?)\s*$/gm)) covered.add(resolve(m[1]));
  }
  // plain rule files only: a PrometheusRule or a Mimir namespace file is not what promtool reads
  const ruleFiles = [...loaded.files.values()].filter(
    (f) => f.kinds.has('rules') && !covered.has(f.file) && isPlainRuleFile(f),
  );
  for (const f of ruleFiles) {
    const out = run(bin, ['check', 'rules', ...featureArgs, f.file]);
    checked.push(f.file);
    for (const x of parseOutput(out, f.file, loaded)) findings.push(x);
  }
  return { version, findings, checked };
}

function isPlainRuleFile(f: FileInput): boolean {
  return /^groups\s*:/m.test(f.text) && !/^kind\s*:/m.test(f.text) && !/^namespace\s*:/m.test(f.text);
}

function run(bin: string, args: string[]): string {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new UsageError(`--promtool ${bin}: ${r.error.message}`);
  return `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
}

const NOISE = /^(Checking |\s*SUCCESS|\s*FAILED:\s*$|\s*WARNING: Unknown option for --enable-feature|\s*$)/;

/** Turns promtool's text into located findings; `file` is the file the command was run on. */
export function parseOutput(out: string, file: string, loaded: Loaded): PromtoolFinding[] {
  const found: PromtoolFinding[] = [];
  let current = file;
  let yamlFile: string | undefined;
  for (const raw of out.split('\n')) {
    // promtool 3.0-3.3 prints this warning without a newline
    const line = raw.replace(/\s*WARNING: --enable-feature is currently a no-op/g, '').replace(/\s+$/, '');
    const checking = /^Checking (.+)$/.exec(line);
    if (checking) {
      current = resolve(checking[1]);
      yamlFile = undefined;
      continue;
    }
    if (NOISE.test(line) || /^\s+SUCCESS:/.test(line) || /^\s*Found \d+ rules?/.test(line)) continue;
    // rules: "<file>: 9:15: group "g", rule 1, "r": could not parse expression: 1:6: parse error: ..."
    const ruleErr = /^\s*(?:FAILED:\s*)?(\S.*?): (\d+):(\d+): (.*)$/.exec(line);
    if (ruleErr && loaded.files.has(abs(ruleErr[1], current))) {
      found.push(at(loaded, abs(ruleErr[1], current), Number(ruleErr[2]), Number(ruleErr[3]), ruleErr[4]));
      continue;
    }
    // config: "FAILED: parsing YAML file X: yaml: unmarshal errors:" then "  line N: ..."
    const parsing = /FAILED: parsing YAML file (.+?): (yaml: .*)$/.exec(line);
    if (parsing) {
      yamlFile = abs(parsing[1], current);
      const yamlLine = /yaml: line (\d+): (.*)$/.exec(parsing[2]);
      if (yamlLine) found.push(at(loaded, yamlFile, Number(yamlLine[1]), 1, yamlLine[2]));
      else if (!/unmarshal errors:$/.test(parsing[2])) found.push(near(loaded, yamlFile, parsing[2]));
      continue;
    }
    const numbered = /^\s+line (\d+): (.*)$/.exec(line);
    if (numbered && yamlFile) {
      found.push(at(loaded, yamlFile, Number(numbered[1]), 1, numbered[2]));
      continue;
    }
    const failed = /^\s*FAILED: (.*)$/.exec(line);
    const message = (failed ? failed[1] : line).trim();
    const named = /^(\S+?): (.*)$/.exec(message);
    if (named && loaded.files.has(abs(named[1], current))) found.push(near(loaded, abs(named[1], current), named[2]));
    else found.push(near(loaded, current, message));
  }
  return found;
}

function abs(p: string, base: string): string {
  return isAbsolute(p) ? p : resolve(p) === base ? base : resolve(p);
}

function offsetOf(f: FileInput, line: number, column: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = f.text.indexOf('\n', off);
    if (nl < 0) return f.text.length;
    off = nl + 1;
  }
  const end = f.text.indexOf('\n', off);
  return Math.min(off + Math.max(0, column - 1), end < 0 ? f.text.length : end);
}

function at(loaded: Loaded, path: string, line: number, column: number, message: string): PromtoolFinding {
  const f = loaded.files.get(path);
  if (!f) return { file: undefined, path, from: 0, to: 0, message };
  const from = offsetOf(f, line, column);
  // the key (or token) at that place, so the finding covers what promtool is about
  const rest = f.text.slice(from);
  const lead = /^[\s-]*/.exec(rest)![0].length; // indentation and a sequence dash
  const token = /^[\w.-]+/.exec(rest.slice(lead))?.[0] ?? '';
  const start = from + lead;
  return { file: f, path, from: start, to: start + token.length, message };
}

/** Where a message without a position points: the first quoted name of it the file holds. */
function near(loaded: Loaded, path: string, message: string): PromtoolFinding {
  const f = loaded.files.get(path);
  if (!f) return { file: undefined, path, from: 0, to: 0, message };
  // a rule promtool names by group and position: the line of that rule
  const rule = /group "([^"]*)", rule (\d+)/.exec(message);
  if (rule) {
    const group = new RegExp(
      `^\\s*-?\\s*name:\\s*["']?${rule[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*$`,
      'm',
    ).exec(f.text);
    if (group) {
      const after = f.text.slice(group.index);
      const rules = [...after.matchAll(/^\s*-\s*(alert|record):/gm)];
      const hit = rules[Number(rule[2]) - 1];
      if (hit) {
        const from = group.index + hit.index! + hit[0].indexOf(hit[1]);
        return { file: f, path, from, to: from + hit[1].length, message };
      }
    }
  }
  for (const m of message.matchAll(/"([^"]+)"|'([^']+)'|`\^\(\?:(.+)\)\$`|`([^`]+)`/g)) {
    const name = m[1] ?? m[2] ?? m[3] ?? m[4];
    // promtool names files resolved against the config's directory: look for what the config wrote
    for (const candidate of [
      name,
      name.startsWith(`${dirname(path)}/`) ? name.slice(dirname(path).length + 1) : undefined,
    ]) {
      const i = candidate ? f.text.indexOf(candidate) : -1;
      if (i >= 0) return { file: f, path, from: i, to: i + candidate!.length, message };
    }
  }
  // "... but got v1" (3.x on alertmanagers[].api_version): the unquoted value, at the key that holds it
  const got = /\bbut got (\S+)$/.exec(message);
  if (got) {
    const kv = new RegExp(
      `^[ \\t-]*([\\w.]+):[ \\t]*["']?${got[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?[ \\t]*(?:#.*)?$`,
      'm',
    ).exec(f.text);
    if (kv) {
      const from = kv.index + kv[0].indexOf(kv[1]);
      return { file: f, path, from, to: from + kv[1].length, message };
    }
  }
  return { file: f, path, from: 0, to: 0, message };
}
