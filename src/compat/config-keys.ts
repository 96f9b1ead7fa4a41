import { isMap, isScalar, isSeq, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { CONFIG_KEY_TABLE, CONFIG_KEY_TABLE_READ_UP_TO, type ConfigSectionRow } from './config-keys-data.js';
import { atLeast } from './ranges.js';
import type { Version } from './versions.js';

export { CONFIG_KEY_TABLE, CONFIG_KEY_TABLE_READ_UP_TO };

/** The root section of prometheus.yml. */
export const CONFIG_ROOT = 'prom.Config';

export interface ConfigKeySpec {
  key: string;
  /** First release that knows it (undefined: every release the table read). */
  since?: string;
  /** First release that no longer knows it. */
  removedIn?: string;
  /** The section of its value, and whether the value is a list of them. */
  child?: { section: string; list: boolean };
}

const parsed = new Map<string, ConfigKeySpec[]>();

/** Every key a section has had in any release the table read. */
export function sectionKeys(section: string): ConfigKeySpec[] {
  let out = parsed.get(section);
  if (out) return out;
  const row: ConfigSectionRow | undefined = CONFIG_KEY_TABLE[section];
  out = (row?.keys.split(' ') ?? []).filter(Boolean).map((spec) => {
    const [key, span] = spec.split('@');
    const [since, removedIn] = (span ?? '').split('-');
    const child = row!.children[key];
    return {
      key,
      since: since || undefined,
      removedIn: removedIn || undefined,
      child: child ? { section: child.replace('[]', ''), list: child.startsWith('[]') } : undefined,
    };
  });
  parsed.set(section, out);
  return out;
}

/** Whether `version` knows the key. */
export function keyKnown(spec: ConfigKeySpec, version: Version): boolean {
  return (!spec.since || atLeast(version, spec.since)) && (!spec.removedIn || !atLeast(version, spec.removedIn));
}

export interface ConfigKeyUse {
  /** Path in the document, e.g. scrape_configs[1].consult_sd_configs. */
  path: string;
  key: string;
  section: string;
  pair: Pair;
  /** undefined: no release the table read knows it. */
  spec?: ConfigKeySpec;
}

/** Every key of a prometheus.yml document, with the section it is in and its table entry. */
export function configKeyUses(root: YAMLMap): ConfigKeyUse[] {
  const out: ConfigKeyUse[] = [];
  const visit = (map: YAMLMap, section: string, path: string): void => {
    const specs = sectionKeys(section);
    for (const pair of map.items as Pair[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) continue;
      const spec = specs.find((s) => s.key === key);
      const here = path ? `${path}.${key}` : key;
      out.push({ path: here, key, section, pair, spec });
      if (!spec?.child) continue;
      const value = pair.value as YamlNode | null;
      if (spec.child.list && isSeq(value))
        value.items.forEach((it, i) => {
          if (isMap(it)) visit(it as YAMLMap, spec.child!.section, `${here}[${i}]`);
        });
      else if (isMap(value)) visit(value as YAMLMap, spec.child.section, here);
    }
  };
  visit(root, CONFIG_ROOT, '');
  return out;
}

/** Damerau-Levenshtein distance (optimal string alignment), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest keys of the section (distance <= 2, or <= 3 for long names), nearest first. */
export function nearKeys(section: string, key: string, versions: Version[]): string[] {
  const limit = key.length > 12 ? 3 : 2;
  return sectionKeys(section)
    .filter((s) => versions.some((v) => keyKnown(s, v)))
    .map((s) => ({ key: s.key, d: editDistance(key, s.key) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d || a.key.localeCompare(b.key))
    .map((x) => x.key);
}

const LABELS: Record<string, string> = {
  'prom.Config': 'the top level',
  'prom.GlobalConfig': 'global',
  'prom.ScrapeConfig': 'a scrape config',
  'relabel.Config': 'a relabel config',
  'targetgroup.Group': 'a static config',
  'prom.AlertingConfig': 'alerting',
  'prom.AlertmanagerConfig': 'an alertmanager config',
  'prom.RemoteWriteConfig': 'a remote_write entry',
  'prom.RemoteReadConfig': 'a remote_read entry',
  'prom.QueueConfig': 'queue_config',
  'prom.MetadataConfig': 'metadata_config',
  'prom.StorageConfig': 'storage',
  'prom.TSDBConfig': 'storage.tsdb',
  'prom.OTLPConfig': 'otlp',
  'common.TLSConfig': 'tls_config',
  'common.OAuth2': 'oauth2',
  'common.BasicAuth': 'basic_auth',
  'common.Authorization': 'authorization',
};

/** A readable name of a section for messages. */
export function sectionLabel(section: string): string {
  return (
    LABELS[section] ??
    section
      .replace(/^\w+\./, '')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase()
  );
}
