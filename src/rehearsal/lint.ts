import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { PROMTOOL_RULE, fixFiles, lintFiles, renderLintMarkdown, type LintResult } from '../lint/index.js';
import { PROMETHEUS, labHas, prometheusVersion, promtoolBinary } from '../lab/index.js';
import { parseVersion } from '../compat/index.js';
import type { RehearsalStep } from './index.js';

/**
 * `stackshift lint prom3` against the rehearsal's source: its prometheus.yml and rule file, plus the flags
 * of the running server (live, /api/v1/status/flags), for an upgrade to the runbook's target (PROMETHEUS.target)
 * with `--promtool` set to the lab's promtool of that version, so the report says what the real target would
 * make of the files ("would 3.x load this?"), each complaint a located finding. The dual fixes are written to a
 * copy, which the running version's promtool must still accept.
 */
export const lintStep: RehearsalStep = {
  id: 'lint-prom3',
  title: 'Prometheus 3 readiness lint of the source config, rules and flags',
  async run(ctx) {
    const confDir = dirname(ctx.source.configFile);
    const from = parseVersion(prometheusVersion())?.raw ?? '2.55.1';
    const to: string = PROMETHEUS.target;
    const opts = { from, to, flagsFrom: [ctx.source.url] };
    // the target's promtool: without it the question "would the target load this?" stays open, and the step fails
    const promtool = labHas('prometheus', to, 'promtool') ? promtoolBinary(to) : undefined;
    const t0 = Date.now();
    const result = await lintFiles([confDir], { ...opts, promtool });
    const ms = Date.now() - t0;
    const verdict = promtoolVerdict(result, to, confDir);
    const outDir = join(ctx.workDir, 'lint-prom3-dual');
    const fixed = await fixFiles([confDir], { ...opts, stage: 'dual', outDir });
    const fixedConfig = join(outDir, 'prometheus.yml');
    const check = spawnSync('promtool', ['check', 'config', fixedConfig], { encoding: 'utf8' });
    const kinds = new Set(result.files.flatMap((f) => f.kinds));
    const c = result.counts;
    const parseErrors = result.findings.filter(
      (f) => f.ruleId === 'input-parse-error' || f.ruleId === 'promql-syntax',
    ).length;
    ctx.results.lint = result;
    const ok =
      kinds.has('config') &&
      kinds.has('rules') &&
      c.expressions === 2 &&
      parseErrors === 0 &&
      check.status === 0 &&
      fixed.rejected.length === 0 &&
      verdict.accepted;
    const summary = `${result.findings.length} findings for ${from} -> ${to} (${c.dual} dual, ${c.cutover} cutover, ${c.advisory} advisory; ${c.error} error, ${c.warning} warning, ${c.info} info) over ${result.files.length} files, ${c.expressions} expressions and the live flags in ${ms} ms; ${verdict.summary}; ${fixed.files.reduce((s, f) => s + f.fixes, 0)} dual fix(es) written to a copy, promtool ${check.status === 0 ? 'accepts' : 'REJECTS'} it`;
    return {
      status: ok ? 'passed' : 'failed',
      summary,
      details: [
        renderLintMarkdown(result, confDir).replace(/^## .*\n/, ''),
        '',
        `Target promtool: ${verdict.details}`,
        '',
        `Dual-stage fixes written to \`${outDir}\`: ${fixed.files.map((f) => `${f.file.slice(confDir.length + 1)} (${f.fixes})`).join(', ') || 'none needed'}. \`promtool check config\` on the result: ${check.status === 0 ? 'SUCCESS' : `FAILED: ${(check.stdout + check.stderr).trim()}`}.`,
      ].join('\n'),
      data: {
        counts: c,
        byPhase: { dual: c.dual, cutover: c.cutover, advisory: c.advisory },
        findings: result.findings.map((f) => ({
          ruleId: f.ruleId,
          severity: f.severity,
          phase: f.phase,
          file: f.file,
          line: f.line,
          message: f.message,
        })),
        promtool: check.status === 0,
        targetPromtool: verdict.data,
      },
    };
  },
};

interface PromtoolVerdict {
  accepted: boolean;
  summary: string;
  details: string;
  data:
    | {
        version: string;
        path?: string;
        checked: string[];
        accepted: boolean;
        findings: Array<{ file: string; line: number; column: number; message: string }>;
      }
    | { version: string; missing: string };
}

/** What the target's promtool said, from the lint result's `promtool` findings (one line for the summary, a list for the details). */
function promtoolVerdict(result: LintResult, to: string, confDir: string): PromtoolVerdict {
  if (!result.promtool) {
    const missing = `promtool ${to} is not built in the lab (bash scripts/build-servers.sh prometheus-${to})`;
    return {
      accepted: false,
      summary: `promtool ${to}: NOT RUN (${missing})`,
      details: `not run: ${missing}.`,
      data: { version: to, missing },
    };
  }
  const rel = (f: string) => (f.startsWith(confDir + '/') ? f.slice(confDir.length + 1) : f);
  const findings = result.findings
    .filter((f) => f.ruleId === PROMTOOL_RULE.id)
    .map((f) => ({ file: rel(f.file), line: f.line, column: f.column, message: f.message }));
  const { version, path, checked } = result.promtool;
  const accepted = findings.length === 0 && version === to;
  const checkedRel = checked.map(rel).join(', ');
  return {
    accepted,
    summary: accepted
      ? `promtool ${version} (the target's) accepts ${checkedRel}`
      : `promtool ${version} (the target's) REJECTS: ${findings.length} complaint(s)${version !== to ? `, and it is not ${to}` : ''}`,
    details: accepted
      ? `\`${path}\` (${version}) checked ${checkedRel}: SUCCESS, nothing to report.`
      : [
          `\`${path}\` (${version}) checked ${checkedRel}: FAILED.`,
          '',
          ...findings.map((f) => `- ${f.file}:${f.line}:${f.column} ${f.message}`),
        ].join('\n'),
    data: { version, path, checked: checked.map(rel), accepted, findings },
  };
}
