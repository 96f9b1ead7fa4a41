import { stringify } from 'yaml';
import type { GrafanaDatasource } from './datasources.js';

export interface ExemplarDestination {
  name: string;
  datasourceUid?: string;
  url?: string;
  urlDisplayLabel?: string;
}

/**
 * Exemplar links are a setting of the Prometheus-type datasource, not of dashboards:
 * jsonData.exemplarTraceIdDestinations[] {name: exemplar label holding the trace id, datasourceUid: the
 * Tempo datasource} (Grafana docs, prometheus/configure; types.ts ExemplarTraceIdDestination). An entry
 * for the same label is replaced, because that label's traces now live in Tempo.
 */
export function planExemplarLink(
  target: GrafanaDatasource,
  tempo: GrafanaDatasource,
  label: string,
): { needed: boolean; jsonData: Record<string, unknown>; provisioning: string } {
  const jsonData = { ...(target.jsonData ?? {}) };
  const current = Array.isArray(jsonData.exemplarTraceIdDestinations)
    ? (jsonData.exemplarTraceIdDestinations as ExemplarDestination[])
    : [];
  const already = current.some((d) => d && d.name === label && d.datasourceUid === tempo.uid);
  const entry: ExemplarDestination = { name: label, datasourceUid: tempo.uid, urlDisplayLabel: 'View trace' };
  const next = already ? current : [...current.filter((d) => !d || d.name !== label), entry];
  jsonData.exemplarTraceIdDestinations = next;
  const provisioning =
    `# in the provisioning of datasource "${target.name}" (uid ${target.uid})\n` +
    stringify({ jsonData: { exemplarTraceIdDestinations: next } }).trimEnd();
  return { needed: !already, jsonData, provisioning };
}
