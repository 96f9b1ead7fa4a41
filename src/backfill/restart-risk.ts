/**
 * A Prometheus receiver with out-of-order ingestion can lose, at its next restart, samples it acknowledged and
 * served during the backfill (prometheus/prometheus#19016; versions and sources in compat/ooo-restart-loss.ts,
 * reproduced in test/backfill/receiver-loss.test.ts). The per-unit read-back runs before that restart and
 * cannot see it: the run reads the receiver's version and out-of-order window, and where the version is
 * affected, says to verify the copy again after the restart, with the exact command, and to prefer block
 * copies into a Prometheus.
 */
import { parse as parseYaml } from 'yaml';
import { PrometheusClient } from '../clients/index.js';
import { oooRestartLoss, OOO_RESTART_LOSS } from '../compat/index.js';
import type { ResolvedEndpoint } from '../config/index.js';
import { HttpClient } from '../http/index.js';
import { log } from '../log/index.js';
import { shellQuote } from '../report/index.js';
import { tryParseDuration } from '../timeutil/index.js';
import type { BackfillReport } from './report.js';

/** What `backfill metrics` reports when the receiver can lose acknowledged samples at its next restart. */
export interface RestartRisk {
  issue: string;
  /** The receiver's version, from /api/v1/status/buildinfo. */
  version: string;
  /** `storage.tsdb.out_of_order_time_window` from /api/v1/status/config ("unknown" when it cannot be read). */
  outOfOrderTimeWindow: string;
  /** Which compactions drop the out-of-order mark on this version: every merge, or in-order with out-of-order. */
  merges: 'any' | 'mixed';
  why: string;
  /** The command to run after the receiver's next restart (once it has compacted). */
  verifyCommand: string;
  /** The copy that involves no out-of-order head. */
  alternative: string;
}

/** The receiver's version and out-of-order window; undefined where its API cannot tell (never fatal). */
export async function readReceiver(
  target: ResolvedEndpoint,
  readUrl: string,
): Promise<{ version: string; outOfOrderTimeWindow?: string } | undefined> {
  const api = new PrometheusClient(new HttpClient({ ...target, url: readUrl, retries: 1 }));
  try {
    const { version } = await api.buildInfo();
    let outOfOrderTimeWindow: string | undefined;
    try {
      const cfg = parseYaml(await api.config()) as {
        storage?: { tsdb?: { out_of_order_time_window?: string } };
      } | null;
      outOfOrderTimeWindow = String(cfg?.storage?.tsdb?.out_of_order_time_window ?? '0s');
    } catch (e) {
      log.debug('cannot read the receiver config', { readUrl, error: (e as Error).message });
    }
    return { version, outOfOrderTimeWindow };
  } catch (e) {
    log.debug('cannot read the receiver version', { readUrl, error: (e as Error).message });
    return undefined;
  } finally {
    await api.close();
  }
}

export interface RestartRiskInput {
  receiver: { version: string; outOfOrderTimeWindow?: string };
  sourceUrl: string;
  readUrl: string;
  start: string;
  end: string;
  selectors: string[];
  externalLabelsDropped: boolean;
}

/** The risk for this receiver, or undefined when its version or settings cannot lose samples this way. */
export function restartRisk(i: RestartRiskInput): RestartRisk | undefined {
  const loss = oooRestartLoss(i.receiver.version);
  if (!loss) return undefined;
  const window = i.receiver.outOfOrderTimeWindow;
  // without an out-of-order window there is no out-of-order head, hence no out-of-order block to merge
  if (window !== undefined && !tryParseDuration(window)) return undefined;
  const args = [
    'stackshift',
    'verify',
    'metrics',
    '--source-url',
    i.sourceUrl,
    '--target-url',
    i.readUrl,
    '--start',
    i.start,
    '--end',
    i.end,
    ...i.selectors.flatMap((s) => ['--match', s]),
    ...(i.externalLabelsDropped ? ['--drop-external-labels'] : []),
  ];
  return {
    issue: OOO_RESTART_LOSS.issue,
    version: i.receiver.version,
    outOfOrderTimeWindow: window ?? 'unknown',
    merges: loss.merges,
    why: loss.why,
    verifyCommand: args.map(shellQuote).join(' '),
    alternative: 'stackshift backfill blocks --prometheus-data-dir <its --storage.tsdb.path>',
  };
}

/** The advice line: what can happen, what to run after the restart, and what to prefer. */
export function restartAdvice(r: RestartRisk): string {
  return `the receiver (Prometheus ${r.version}, out-of-order window ${r.outOfOrderTimeWindow}) can lose samples it acknowledged and served at its next restart (${r.issue}): ${r.why}. The read-back above ran before that restart; after the receiver's next restart (once it has compacted), run: ${r.verifyCommand} (with the credentials of this backfill, if any). For a Prometheus target prefer ${r.alternative}, which writes blocks and no out-of-order head`;
}

/**
 * Adds the risk to a finished report (advice, field) and warns on stderr, where the receiver read as affected.
 * From the report's own range and selectors, so that a resumed run names the stored range.
 */
export function noteRestartRisk(
  report: BackfillReport,
  receiver: { version: string; outOfOrderTimeWindow?: string } | undefined,
): void {
  if (!receiver || !report.target.readUrl) return;
  const risk = restartRisk({
    receiver,
    sourceUrl: report.source.url,
    readUrl: report.target.readUrl,
    start: report.range.start,
    end: report.range.end,
    selectors: report.selectors,
    externalLabelsDropped:
      report.externalLabels.action === 'dropped' && Object.keys(report.externalLabels.labels).length > 0,
  });
  if (!risk) return;
  report.restartRisk = risk;
  report.advice.push(restartAdvice(risk));
  log.warn(
    `the receiver can lose acknowledged samples at its next restart (${risk.issue}); verify the copy after it restarts`,
    { receiver: `Prometheus ${risk.version}`, command: risk.verifyCommand },
  );
}
