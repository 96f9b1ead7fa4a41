// Why one file of about 400 lines: the plan is one pure function of the facts (src/compat) and the evidence read
// from the server; the writer formats, the rollback verdict and the checklist feed each other stage by stage.
import {
  CONFIG_KEYS_INTRODUCED,
  DOWNGRADE_LOSSY_FEATURES,
  DOWNGRADE_POLICY,
  RELEASE_FACTS,
  RUNBOOK_CORRECTIONS,
  compareVersions,
  parseVersion,
  resolveTarget,
  supportStatus,
  upgradePath,
  versionVerdict,
  type FormatSummary,
  type RunbookCorrection,
} from '../compat/index.js';
import { UsageError } from '../errors/index.js';
import type { TsdbInspection } from '../tsdb/index.js';
import {
  factsChangesProvider,
  type RequiredChange,
  type RequiredChangesProvider,
  type ServerFacts,
} from './changes.js';
import { estimateDowntime, type DowntimeEstimate, type ReplayMeasurement } from './downtime.js';
import { buildRisks, heatMap, type Risk } from './risks.js';

/**
 * `stackshift upgrade plan`: the path (2.x -> 2.55.1 -> 3.y), per stage the required changes (phase dual or
 * cutover), whether and how a rollback works and why, the expected restart time, a risk register and a
 * checklist. Every claim carries the source it rests on (src/compat).
 */
export interface Rollback {
  to: string;
  feasible: 'yes' | 'with-loss' | 'no';
  statement: string;
  conditions: string[];
  sources: string[];
  /** Rolling back further than the previous stage (e.g. from 3.x straight to the original 2.x). */
  beyond?: string;
}

export interface ChecklistItem {
  text: string;
  done?: boolean;
  command?: string;
}

export interface PlanStage {
  index: number;
  from: string;
  to: string;
  kind: string;
  note: string;
  requiredChanges: RequiredChange[];
  rollback: Rollback;
  downtime: DowntimeEstimate;
  checklist: ChecklistItem[];
}

export interface UpgradePlan {
  schemaVersion: 1;
  generatedAt: string;
  from: string;
  to: string;
  targetNotes: string[];
  path: string[];
  stages: PlanStage[];
  runbookCorrections: RunbookCorrection[];
  risks: Risk[];
  heatMap: Array<Array<string[]>>;
  evidence: PlanEvidence;
  notes: string[];
}

export interface PlanEvidence {
  server?: {
    url?: string;
    version?: string;
    featureFlags: string[];
    adminApi?: boolean;
    corruptionCount?: number;
    targetsDown?: number;
    rulesUnhealthy?: number;
  };
  dataDir?: {
    path: string;
    formats: FormatSummary;
    problems: number;
    walBytes: number;
    walSegments: number;
    tsdbBytes: number;
  };
  disk?: { freeBytes: number; neededBytes: number; factor: number };
  snapshot?: { name: string; verified: boolean };
  replay?: ReplayMeasurement;
}

export interface PlanInput {
  from?: string;
  to: string;
  server?: ServerFacts & { url?: string; corruptionCount?: number; targetsDown?: number; rulesUnhealthy?: number };
  inspection?: TsdbInspection;
  replay?: ReplayMeasurement;
  disk?: { freeBytes: number; factor?: number };
  snapshot?: { name: string; verified: boolean };
  changesProvider?: RequiredChangesProvider;
  asOf?: string;
}

/** What a release writes by default, plus what the server's opt-in features add. */
export function writerFormats(
  to: string,
  featureFlags: string[],
  configYaml?: string,
): { formats: FormatSummary; lossyEnabled: string[] } {
  const v = parseVersion(to)!;
  const chunk = new Set([1]);
  const wal = new Set([1, 2, 3]);
  const cfgText = configYaml ?? '';
  const native = featureFlags.includes('native-histograms') || /scrape_native_histograms:\s*true/.test(cfgText);
  if (native) {
    chunk.add(2);
    chunk.add(3);
    wal.add(7);
    wal.add(8);
  }
  if (featureFlags.includes('exemplar-storage')) wal.add(4);
  if (featureFlags.includes('metadata-wal-records')) wal.add(6);
  const lossyEnabled: string[] = [];
  const ge = (x: string) => compareVersions(v, parseVersion(x)!) >= 0;
  if (ge('3.2.0') && /convert_classic_histograms_to_nhcb:\s*true/.test(cfgText)) {
    wal.add(9);
    wal.add(10);
    lossyEnabled.push('convert_classic_histograms_to_nhcb');
  }
  if (ge('3.11.0') && featureFlags.includes('st-storage')) {
    wal.add(11);
    if (ge('3.12.0')) {
      wal.add(12);
      wal.add(13);
    }
    lossyEnabled.push('st-storage');
  }
  if (ge('3.11.0') && (featureFlags.includes('xor2-encoding') || /floats:\s*xor2/.test(cfgText))) {
    chunk.add(4);
    lossyEnabled.push('xor2-encoding');
  }
  if (ge('3.14.0') && featureFlags.includes('histograms-st-encoding')) {
    chunk.add(5);
    chunk.add(6);
    lossyEnabled.push('histograms-st-encoding');
  }
  return {
    formats: {
      indexVersions: [2],
      metaVersions: [1],
      blockChunkEncodings: [...chunk].sort((a, b) => a - b),
      headChunkEncodings: [...chunk].sort((a, b) => a - b),
      walRecordTypes: [...wal].sort((a, b) => a - b),
      walCompression: ['snappy'],
    },
    lossyEnabled,
  };
}

function union(a: FormatSummary, b?: FormatSummary): FormatSummary {
  if (!b) return a;
  const u = (x: number[], y: number[]) => [...new Set([...x, ...y])].sort((p, q) => p - q);
  return {
    indexVersions: u(a.indexVersions, b.indexVersions),
    metaVersions: u(a.metaVersions, b.metaVersions),
    blockChunkEncodings: u(a.blockChunkEncodings, b.blockChunkEncodings),
    headChunkEncodings: u(a.headChunkEncodings, b.headChunkEncodings),
    walRecordTypes: u(a.walRecordTypes, b.walRecordTypes),
    walCompression: [...new Set([...a.walCompression, ...b.walCompression])],
  };
}

const list = (xs: number[]) => `[${xs.join(', ')}]`;

export function rollbackFor(
  stage: { from: string; to: string },
  featureFlags: string[],
  configYaml: string | undefined,
  observed: FormatSummary | undefined,
  changes: RequiredChange[],
  original: string,
): Rollback {
  const from = parseVersion(stage.from)!;
  const to = parseVersion(stage.to)!;
  const w = writerFormats(stage.to, featureFlags, configYaml);
  const formats = union(w.formats, observed);
  const verdict = versionVerdict(stage.from, formats);
  const sources = new Set<string>();
  verdict.blockers.forEach((b) => sources.add(b.source));
  verdict.losses.forEach((l) => sources.add(l.source));
  const conditions: string[] = [];
  const crossesTo3 = from.major === 2 && to.major >= 3;
  const v255 = parseVersion('2.55.0')!;
  // Keys that the stage's fixes introduce and the old release cannot load (strict YAML).
  const newKeys = CONFIG_KEYS_INTRODUCED.filter(
    (k) => compareVersions(from, parseVersion(k.since)!) < 0 && compareVersions(to, parseVersion(k.since)!) >= 0,
  );
  if (newKeys.length) {
    conditions.push(
      `keep config keys that ${stage.from} cannot load out of the config until the stage is signed off, or revert them with the binary: ${newKeys.map((k) => `${k.key} (${k.since}+)`).join(', ')} (both releases load YAML strictly)`,
    );
    sources.add('P@v3.0.0:config/config.go yaml.UnmarshalStrict (R§0, R§1c)');
  }
  const cutovers = changes.filter((c) => c.phase === 'cutover' && c.detected !== 'no');
  if (cutovers.length)
    conditions.push(
      `revert the cutover changes together with the binary: ${cutovers.map((c) => c.subject).join(', ')}`,
    );
  const lossy = DOWNGRADE_LOSSY_FEATURES.filter(
    (f) => compareVersions(to, parseVersion(f.since)!) >= 0 && compareVersions(from, parseVersion(f.since)!) < 0,
  );
  for (const f of lossy) {
    conditions.push(`keep ${f.id} (${f.since}+) off until the rollback window closes: ${f.loses}`);
    sources.add(f.source);
  }
  let feasible: Rollback['feasible'] =
    verdict.verdict === 'cannot-open' ? 'no' : verdict.verdict === 'opens-with-loss' ? 'with-loss' : 'yes';
  let statement: string;
  const wrote = `index v${list(formats.indexVersions).slice(1, -1)}, meta.json v1, chunk encodings ${list(formats.blockChunkEncodings)}, WAL record types ${list(formats.walRecordTypes)}`;
  if (feasible === 'no') {
    statement = `Rollback to ${stage.from} is NOT possible without restoring the pre-stage snapshot: ${verdict.blockers.map((b) => b.text).join('; ')}.`;
  } else if (feasible === 'with-loss') {
    statement = `Rollback to ${stage.from} opens the data dir but silently loses data: ${verdict.losses.map((l) => l.text).join('; ')}.`;
  } else if (crossesTo3) {
    statement = `Rollback to ${stage.from} is possible and officially supported (${DOWNGRADE_POLICY.from3.source}: ${DOWNGRADE_POLICY.from3.statement}): ${stage.to} still writes ${wrote}, all of which ${stage.from} reads. Reinstall ${stage.from} with the pre-cutover config and flags.`;
    sources.add(DOWNGRADE_POLICY.from3.source);
  } else {
    statement = `Rollback to ${stage.from} is possible without restoring data: ${stage.from} reads everything ${stage.to} writes (${wrote}). Reinstall ${stage.from} and its pre-stage config.`;
  }
  if (crossesTo3 && compareVersions(from, v255) < 0) {
    feasible = 'no';
    statement = `Rollback to ${stage.from} after ${stage.to} ran is unsupported: ${DOWNGRADE_POLICY.from3.statement} (${DOWNGRADE_POLICY.from3.source}).`;
  }
  sources.add('tsdb/index/index.go, tsdb/chunkenc/chunk.go, tsdb/record/record.go per tag (R§2a)');
  let beyond: string | undefined;
  const orig = parseVersion(original)!;
  if (crossesTo3 && compareVersions(orig, from) < 0) {
    beyond = `Rolling back further, from ${stage.to} straight to ${original}, is unsupported (${DOWNGRADE_POLICY.from3.source}). The bytes would still allow it today (${DOWNGRADE_POLICY.formatToday.statement}; ${DOWNGRADE_POLICY.formatToday.source}), but ${DOWNGRADE_POLICY.futureIndexV3.statement} (${DOWNGRADE_POLICY.futureIndexV3.source}): go back to ${stage.from} first, or restore the stage-1 snapshot.`;
  }
  return { to: stage.from, feasible, statement, conditions, sources: [...sources], beyond };
}

function checklistFor(
  stage: { from: string; to: string; index: number },
  changes: RequiredChange[],
  rollback: Rollback,
  downtime: DowntimeEstimate,
  ev: PlanEvidence,
  target: string,
): ChecklistItem[] {
  const items: ChecklistItem[] = [];
  items.push({
    text: 'TSDB snapshot created through the admin API and verified block by block',
    done: ev.snapshot?.verified,
    command: 'stackshift snapshot create --prometheus-url URL --data-dir DIR',
  });
  items.push({
    text: `free disk >= ${ev.disk?.factor ?? 3}x the TSDB size${ev.disk ? ` (needs ${mib(ev.disk.neededBytes)}, ${mib(ev.disk.freeBytes)} free)` : ''}`,
    done: ev.disk ? ev.disk.freeBytes >= ev.disk.neededBytes : undefined,
    command: 'stackshift preflight --data-dir DIR',
  });
  items.push({
    text: `baseline recorded for the post-upgrade comparison (targets up, rule health, latency of the most expensive queries)`,
    command: `stackshift preflight --prometheus-url URL --data-dir DIR --to ${stage.to}`,
  });
  items.push({
    text: `prometheus.yml and every rule file pass \`promtool check config\` of ${stage.to} (its promtool, not the running one)`,
  });
  const dual = changes.filter((c) => c.phase !== 'cutover' && c.detected !== 'no');
  const cut = changes.filter((c) => c.phase === 'cutover' && c.detected !== 'no');
  if (dual.length)
    items.push({ text: `before the swap, on ${stage.from}: ${dual.map((c) => `${c.subject} (${c.fix})`).join('; ')}` });
  if (cut.length)
    items.push({
      text: `at the swap, together with the ${stage.to} binary: ${cut.map((c) => `${c.subject} (${c.fix})`).join('; ')}`,
    });
  items.push({
    text: `${stage.from} binary, unit file and config kept for the rollback: ${rollback.feasible === 'yes' ? 'rollback keeps the data' : rollback.feasible === 'with-loss' ? 'rollback loses data, see conditions' : 'rollback needs the snapshot'}`,
  });
  for (const c of rollback.conditions) items.push({ text: c });
  items.push({
    text: `maintenance window covers the restart: ~${downtime.restartMs !== undefined ? secs(downtime.restartMs) : 'unknown'}${downtime.assumed ? ' (assumed speed)' : ''}; watch "WAL segment loaded" and /api/v1/status/walreplay during startup`,
  });
  items.push({
    text: `after start: compare with the baseline (targets up, rule health, query latency within 20%)`,
    command: `stackshift preflight --prometheus-url URL --to ${target}`,
  });
  return items;
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}
function secs(ms: number): string {
  return ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${Math.round(ms / 1000)} s`;
}

export function planUpgrade(input: PlanInput): UpgradePlan {
  const fromText = input.from ?? input.server?.version;
  if (!fromText) throw new UsageError('the current version is unknown: pass --from or --prometheus-url');
  const from = parseVersion(fromText);
  if (!from) throw new UsageError(`--from "${fromText}" is not a version such as 2.48.1`);
  const target = resolveTarget(input.to);
  if (!target) throw new UsageError(`--to "${input.to}" is not a version such as 3.5.0, 3.13, 3.x or latest`);
  const targetNotes: string[] = [];
  if (target.note) targetNotes.push(target.note);
  const sup = supportStatus(target.version, input.asOf);
  if (sup.lts && sup.expired)
    targetNotes.push(
      `${target.version} is on an LTS line whose support ended ${sup.supportedUntil} (docs/introduction/release-cycle.md); the current LTS is ${RELEASE_FACTS.lts[1].latest}`,
    );
  if (!sup.lts && parseVersion(target.version)!.major >= 3)
    targetNotes.push(
      `${target.version} is not on an LTS line (LTS: ${RELEASE_FACTS.lts.map((l) => l.line).join(', ')}; docs/introduction/release-cycle.md)`,
    );
  const p = upgradePath(from.raw, target.version);
  const provider = input.changesProvider ?? factsChangesProvider;
  const ff = (input.server?.flags?.['enable-feature'] ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const ev: PlanEvidence = {
    server: input.server
      ? {
          url: input.server.url,
          version: input.server.version,
          featureFlags: ff,
          adminApi: input.server.flags ? input.server.flags['web.enable-admin-api'] === 'true' : undefined,
          corruptionCount: input.server.corruptionCount,
          targetsDown: input.server.targetsDown,
          rulesUnhealthy: input.server.rulesUnhealthy,
        }
      : undefined,
    dataDir: input.inspection
      ? {
          path: input.inspection.path,
          formats: input.inspection.formats,
          problems: input.inspection.problems.filter((x) => x.severity === 'error').length,
          walBytes: input.inspection.wal?.bytes ?? 0,
          walSegments: input.inspection.wal?.segments.length ?? 0,
          tsdbBytes: input.inspection.totals.tsdbBytes,
        }
      : undefined,
    snapshot: input.snapshot,
    replay: input.replay,
  };
  if (input.disk && ev.dataDir)
    ev.disk = {
      freeBytes: input.disk.freeBytes,
      factor: input.disk.factor ?? 3,
      neededBytes: ev.dataDir.tsdbBytes * (input.disk.factor ?? 3),
    };
  const downtime = estimateDowntime(
    ev.dataDir ? { bytes: ev.dataDir.walBytes, segments: ev.dataDir.walSegments } : undefined,
    input.replay,
  );
  const stages: PlanStage[] = p.stages.map((s, i) => {
    const changes = provider({ from: s.from, to: s.to }, input.server);
    const rollback = rollbackFor(s, ff, input.server?.configYaml, input.inspection?.formats, changes, from.raw);
    return {
      index: i + 1,
      from: s.from,
      to: s.to,
      kind: s.kind,
      note: s.note,
      requiredChanges: changes,
      rollback,
      downtime,
      checklist: checklistFor({ ...s, index: i + 1 }, changes, rollback, downtime, ev, target.version),
    };
  });
  const risks = buildRisks({ stages, evidence: ev, target: target.version, targetNotes });
  const notes: string[] = [];
  if (stages.length === 0) notes.push(`${from.raw} is already at or beyond ${target.version}: nothing to plan`);
  if (
    from.major === 2 &&
    compareVersions(from, parseVersion('2.55.0')!) < 0 &&
    parseVersion(target.version)!.major >= 3
  )
    notes.push(
      `Every 2.x below 2.55 passes through ${RELEASE_FACTS.bridge.version} first: ${RELEASE_FACTS.bridge.why} (${RELEASE_FACTS.bridge.source}). The format is not the reason: nothing is converted at startup (${DOWNGRADE_POLICY.noConversion.source}).`,
    );
  return {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    from: from.raw,
    to: target.version,
    targetNotes,
    path: p.stages.length ? [p.stages[0].from, ...p.stages.map((s) => s.to)] : [from.raw],
    stages,
    runbookCorrections: RUNBOOK_CORRECTIONS,
    risks,
    heatMap: heatMap(risks),
    evidence: ev,
    notes,
  };
}
