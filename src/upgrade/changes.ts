import { parse as parseYaml } from 'yaml';
import { CHANGE_FACTS, compareVersions, parseVersion, type ChangeFact, type ChangePhase } from '../compat/index.js';
import type { RuleGroup } from '../clients/index.js';

/**
 * The required config/flag/PromQL changes of one upgrade stage.
 *
 * INTEGRATION SEAM: `upgrade plan` asks a RequiredChangesProvider. Today the default provider reads the
 * change facts in src/compat/changes.ts and checks them against what the live server reports; when the lint
 * engine (Prometheus 3 issue) lands, point `planUpgrade({ changesProvider })` at an adapter that runs the lint
 * rules and maps each finding to a RequiredChange (phase dual|cutover, detected yes, evidence = file:line).
 */
export interface RequiredChange {
  id: string;
  kind: ChangeFact['kind'];
  subject: string;
  phase: ChangePhase;
  /** yes: found in what the server reported; no: checked and absent; unknown: cannot be told from here. */
  detected: 'yes' | 'no' | 'unknown';
  evidence?: string;
  outcome: string;
  fix: string;
  severity: ChangeFact['severity'];
  source: string;
}

export interface ServerFacts {
  version?: string;
  /** /api/v1/status/flags: every flag with its effective value (defaults included). */
  flags?: Record<string, string>;
  /** /api/v1/status/config (secrets appear as <secret>). */
  configYaml?: string;
  rules?: RuleGroup[];
}

export interface StageRef {
  from: string;
  to: string;
}

export type RequiredChangesProvider = (stage: StageRef, server: ServerFacts | undefined) => RequiredChange[];

/** The stage crosses `since`: from < since <= to. */
function crosses(stage: StageRef, since: string): boolean {
  const f = parseVersion(stage.from)!;
  const t = parseVersion(stage.to)!;
  const s = parseVersion(since)!;
  return compareVersions(f, s) < 0 && compareVersions(t, s) >= 0;
}

function featureFlags(flags: Record<string, string> | undefined): string[] | undefined {
  if (!flags) return undefined;
  return (flags['enable-feature'] ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

function hasKey(node: unknown, key: string): boolean {
  if (Array.isArray(node)) return node.some((n) => hasKey(n, key));
  if (node && typeof node === 'object') return Object.entries(node).some(([k, v]) => k === key || hasKey(v, key));
  return false;
}

function detect(
  fact: ChangeFact,
  server: ServerFacts | undefined,
): { detected: RequiredChange['detected']; evidence?: string } {
  if (!server) return { detected: 'unknown' };
  let cfg: unknown;
  try {
    cfg = server.configYaml ? parseYaml(server.configYaml) : undefined;
  } catch {
    cfg = undefined;
  }
  switch (fact.kind) {
    case 'feature-flag': {
      const ff = featureFlags(server.flags);
      if (!ff) return { detected: 'unknown' };
      return ff.includes(fact.subject)
        ? { detected: 'yes', evidence: `--enable-feature=${ff.join(',')}` }
        : { detected: 'no' };
    }
    case 'flag': {
      const flags = server.flags;
      if (!flags) return { detected: 'unknown' };
      if (!(fact.subject in flags)) return { detected: 'no' };
      const v = flags[fact.subject];
      if (fact.subject === 'storage.tsdb.retention')
        return v === '' || v === '0s'
          ? { detected: 'no' }
          : { detected: 'yes', evidence: `--storage.tsdb.retention=${v}` };
      if (v === '') return { detected: 'no' };
      // /status/flags reports effective values, defaults included, and defaults differ per release (2.42 reports
      // allow-overlapping-blocks=true without the flag): only the command line tells (R§5).
      return {
        detected: 'unknown',
        evidence: `--${fact.subject}=${v} is the effective value; check the unit file or process arguments`,
      };
    }
    case 'config': {
      if (cfg === undefined) return { detected: 'unknown' };
      const c = cfg as Record<string, unknown>;
      if (fact.id === 'cfg-alertmanager-api-v1') {
        const ams = ((c.alerting as Record<string, unknown> | undefined)?.alertmanagers ?? []) as Array<
          Record<string, unknown>
        >;
        return ams.some((a) => a.api_version === 'v1')
          ? { detected: 'yes', evidence: 'alerting.alertmanagers[].api_version: v1' }
          : { detected: 'no' };
      }
      if (fact.id === 'cfg-enable_http2') {
        const rw = (c.remote_write ?? []) as Array<Record<string, unknown>>;
        const missing = rw.filter((w) => (w as { enable_http2?: unknown }).enable_http2 === undefined);
        return rw.length === 0
          ? { detected: 'no' }
          : missing.length
            ? { detected: 'yes', evidence: `${missing.length} remote_write entries without enable_http2` }
            : { detected: 'no' };
      }
      if (fact.id === 'cfg-external-labels-dollar') {
        const el = ((c.global as Record<string, unknown> | undefined)?.external_labels ?? {}) as Record<string, string>;
        const hits = Object.entries(el).filter(([, v]) => String(v).includes('$'));
        return hits.length
          ? { detected: 'yes', evidence: hits.map(([k, v]) => `${k}: ${v}`).join(', ') }
          : { detected: 'no' };
      }
      if (fact.id === 'cfg-metric_name_validation_scheme')
        return hasKey(cfg, 'metric_name_validation_scheme')
          ? { detected: 'no', evidence: 'metric_name_validation_scheme is set' }
          : { detected: 'yes', evidence: 'no metric_name_validation_scheme: 3.x validates UTF-8 names' };
      if (fact.id === 'cfg-fallback_scrape_protocol')
        return { detected: 'unknown', evidence: "probe each target's Content-Type; not decidable from the config" };
      return hasKey(cfg, fact.subject)
        ? { detected: 'yes', evidence: `config key ${fact.subject}` }
        : { detected: 'no' };
    }
    case 'promql': {
      if (!server.rules) return { detected: 'unknown' };
      if (fact.id === 'promql-holt_winters') {
        const hits = server.rules.flatMap((g) =>
          g.rules.filter((r) => /\bholt_winters\s*\(/.test(r.query)).map((r) => `${g.file}: ${r.name}`),
        );
        return hits.length ? { detected: 'yes', evidence: hits.slice(0, 5).join('; ') } : { detected: 'no' };
      }
      if (fact.id === 'promql-le-quantile') {
        const hits = server.rules.flatMap((g) =>
          g.rules
            .filter((r) => /\b(le|quantile)\s*=\s*"(-?\d+|\+?Inf)"/.test(r.query))
            .map((r) => `${g.file}: ${r.name}`),
        );
        return hits.length ? { detected: 'yes', evidence: hits.slice(0, 5).join('; ') } : { detected: 'no' };
      }
      return { detected: 'unknown' };
    }
  }
}

/** Default provider: the change facts that this stage crosses, checked against the server's flags, config and rules. */
export const factsChangesProvider: RequiredChangesProvider = (stage, server) => {
  const out: RequiredChange[] = [];
  for (const f of CHANGE_FACTS) {
    if (!crosses(stage, f.since)) continue;
    const d = detect(f, server);
    out.push({
      id: f.id,
      kind: f.kind,
      subject: f.subject,
      phase: f.phase,
      detected: d.detected,
      evidence: d.evidence,
      outcome: f.outcome,
      fix: f.fix,
      severity: f.severity,
      source: f.source,
    });
  }
  return out;
};
