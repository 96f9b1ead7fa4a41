/**
 * Prometheus release facts the tool reasons with. Each fact names its source; see
 * ../shared/research/prometheus-3.md §0 (CHANGELOG.md and docs/introduction/release-cycle.md at main d15adb9).
 */
export interface Version {
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), raw: `${m[1]}.${m[2]}.${m[3] ?? 0}` };
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export const RELEASE_FACTS = {
  latest2x: {
    version: '2.55.1',
    date: '2024-11-04',
    source: 'CHANGELOG.md (release-2.55 branch; the tag misprints the date as 2024-01-04)',
  },
  latest3x: { version: '3.14.0', date: '2026-08-17', source: 'CHANGELOG.md @ main d15adb9' },
  lts: [
    { line: '3.5', latest: '3.5.5', supportedUntil: '2026-07-31', source: 'docs/introduction/release-cycle.md' },
    { line: '3.13', latest: '3.13.2', supportedUntil: '2027-07-31', source: 'docs/introduction/release-cycle.md' },
  ],
  bridge: {
    version: '2.55.1',
    why: '2.55 is the last 2.x minor: it reads the index format v3 that 3.x may one day write, and its feature flags preview 3.x behaviour, so a rollback from 3.x lands on a release that can open what 3.x wrote',
    source: 'docs/migration.md ("upgrade to 2.55 first"); CHANGELOG 2.55.0',
  },
} as const;

export interface UpgradeStage {
  from: string;
  to: string;
  kind: 'minor-bridge' | 'major' | 'patch-or-minor';
  note: string;
}

/**
 * The path from one version to another. Any 2.x below 2.55 goes through 2.55.x before 3.x: the 3.0
 * migration guide assumes 2.55, and 2.55 is the only 2.x a 3.x rollback can safely land on.
 */
export function upgradePath(
  fromText: string,
  toText: string = RELEASE_FACTS.lts[1].latest,
): { stages: UpgradeStage[]; from: Version; to: Version } {
  const from = parseVersion(fromText);
  const to = parseVersion(toText);
  if (!from) throw new Error(`cannot parse version "${fromText}"`);
  if (!to) throw new Error(`cannot parse version "${toText}"`);
  const stages: UpgradeStage[] = [];
  if (compareVersions(from, to) >= 0) return { stages, from, to };
  const bridge = parseVersion(RELEASE_FACTS.bridge.version)!;
  let cur = from;
  if (from.major === 2 && to.major >= 3 && compareVersions(from, { ...bridge, patch: 0 }) < 0) {
    stages.push({
      from: cur.raw,
      to: bridge.raw,
      kind: 'minor-bridge',
      note: 'stage 1: upgrade within 2.x to the bridge release; rollback to the old 2.x stays possible',
    });
    cur = bridge;
  } else if (from.major === 2 && to.major >= 3 && compareVersions(from, bridge) < 0) {
    stages.push({ from: cur.raw, to: bridge.raw, kind: 'patch-or-minor', note: 'move to the latest 2.55 patch first' });
    cur = bridge;
  }
  if (to.major > cur.major)
    stages.push({
      from: cur.raw,
      to: to.raw,
      kind: 'major',
      note: 'stage 2: the 3.x binary with the cutover config; rollback lands on 2.55.x',
    });
  else stages.push({ from: cur.raw, to: to.raw, kind: 'patch-or-minor', note: 'same major version' });
  return { stages, from, to };
}
