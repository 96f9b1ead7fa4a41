import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fixFiles, lintFiles, renderLintMarkdown } from '../lint/index.js';
import { prometheusVersion } from '../lab/index.js';
import { parseVersion } from '../compat/index.js';
import type { RehearsalStep } from './index.js';

/**
 * `stackshift lint prom3` against the rehearsal's source: its prometheus.yml and rule file, plus the flags
 * of the running server (live, /api/v1/status/flags), for an upgrade to 3.5.0. The dual fixes are written
 * to a copy, which the real promtool must still accept.
 */
export const lintStep: RehearsalStep = {
  id: 'lint-prom3',
  title: 'Prometheus 3 readiness lint of the source config, rules and flags',
  async run(ctx) {
    const confDir = dirname(ctx.source.configFile);
    const from = parseVersion(prometheusVersion())?.raw ?? '2.55.1';
    const opts = { from, to: '3.5.0', flagsFrom: [ctx.source.url] };
    const t0 = Date.now();
    const result = await lintFiles([confDir], opts);
    const ms = Date.now() - t0;
    const outDir = join(ctx.workDir, 'lint-prom3-dual');
    const fixed = await fixFiles([confDir], { ...opts, stage: 'dual', outDir });
    const fixedConfig = join(outDir, 'prometheus.yml');
    const check = spawnSync('promtool', ['check', 'config', fixedConfig], { encoding: 'utf8' });
    const kinds = new Set(result.files.flatMap((f) => f.kinds));
    const c = result.counts;
    const parseErrors = result.findings.filter((f) => f.ruleId === 'input-parse-error' || f.ruleId === 'promql-syntax').length;
    ctx.results.lint = result;
    const ok = kinds.has('config') && kinds.has('rules') && c.expressions === 2 && parseErrors === 0 && check.status === 0 && fixed.rejected.length === 0;
    const summary = `${result.findings.length} findings for ${from} -> 3.5.0 (${c.dual} dual, ${c.cutover} cutover, ${c.advisory} advisory; ${c.error} error, ${c.warning} warning, ${c.info} info) over ${result.files.length} files, ${c.expressions} expressions and the live flags in ${ms} ms; ${fixed.files.reduce((s, f) => s + f.fixes, 0)} dual fix(es) written to a copy, promtool ${check.status === 0 ? 'accepts' : 'REJECTS'} it`;
    return {
      status: ok ? 'passed' : 'failed',
      summary,
      details: [
        renderLintMarkdown(result, confDir).replace(/^## .*\n/, ''),
        '',
        `Dual-stage fixes written to \`${outDir}\`: ${fixed.files.map((f) => `${f.file.slice(confDir.length + 1)} (${f.fixes})`).join(', ') || 'none needed'}. \`promtool check config\` on the result: ${check.status === 0 ? 'SUCCESS' : `FAILED: ${(check.stdout + check.stderr).trim()}`}.`,
      ].join('\n'),
      data: { counts: c, byPhase: { dual: c.dual, cutover: c.cutover, advisory: c.advisory }, findings: result.findings.map((f) => ({ ruleId: f.ruleId, severity: f.severity, phase: f.phase, file: f.file, line: f.line, message: f.message })), promtool: check.status === 0 },
    };
  },
};
