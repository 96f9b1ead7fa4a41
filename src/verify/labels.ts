import type { Label, LabelMapping, Matcher } from './types.js';

/** Sorted label list from an API label object. */
export function labelsFromRecord(rec: Record<string, string>): Label[] {
  return Object.keys(rec)
    .sort()
    .map((name) => ({ name, value: rec[name] }));
}

export function labelsToRecord(labels: Label[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

/** Source-side normalisation: drop, then add (overriding), kept sorted. */
export function normaliseSource(labels: Label[], m: LabelMapping): Label[] {
  const addNames = Object.keys(m.add);
  if (m.drop.length === 0 && addNames.length === 0) return labels;
  const out = labels.filter((l) => !m.drop.includes(l.name) && !(l.name in m.add));
  for (const name of addNames) out.push({ name, value: m.add[name] });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Target-side normalisation: drop only (added labels are expected to be really there). */
export function normaliseTarget(labels: Label[], m: LabelMapping): Label[] {
  if (m.drop.length === 0) return labels;
  return labels.filter((l) => !m.drop.includes(l.name));
}

/** A map key for a sorted label set; \xff/\xfe cannot occur in valid UTF-8 label text. */
export function labelKey(labels: Label[]): string {
  let k = '';
  for (const l of labels) k += l.name + '\xff' + l.value + '\xfe';
  return k;
}

export function metricName(labels: Label[]): string {
  for (const l of labels) if (l.name === '__name__') return l.value;
  return '';
}

/** Prometheus' labels.Compare: name, then value, pair by pair; a prefix sorts first. */
export function compareLabels(a: Label[], b: Label[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i].name !== b[i].name) return a[i].name < b[i].name ? -1 : 1;
    if (a[i].value !== b[i].value) return a[i].value < b[i].value ? -1 : 1;
  }
  return a.length - b.length;
}

/** `name{a="1", b="2"}` as Prometheus prints a series. */
export function formatLabels(labels: Label[]): string {
  const name = metricName(labels);
  const rest = labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}=${JSON.stringify(l.value)}`);
  return `${name}{${rest.join(', ')}}`;
}

const OPS: Record<Matcher['type'], string> = { EQ: '=', NEQ: '!=', RE: '=~', NRE: '!~' };

/** A selector string for the HTTP API's match[] from parsed matchers. */
export function renderSelector(matchers: Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${OPS[m.type]}${JSON.stringify(m.value)}`).join(', ')}}`;
}

/** Equality matchers that select exactly this series (and any superset, which callers filter out). */
export function exactMatchers(labels: Label[]): Matcher[] {
  return labels.map((l) => ({ type: 'EQ' as const, name: l.name, value: l.value }));
}

/** Whether a label set satisfies every matcher (RE/NRE fully anchored, as in Prometheus). */
export function matchesAll(labels: Label[], matchers: Matcher[]): boolean {
  const rec = labelsToRecord(labels);
  for (const m of matchers) {
    const v = rec[m.name] ?? '';
    switch (m.type) {
      case 'EQ':
        if (v !== m.value) return false;
        break;
      case 'NEQ':
        if (v === m.value) return false;
        break;
      case 'RE':
        if (!anchored(m.value).test(v)) return false;
        break;
      case 'NRE':
        if (anchored(m.value).test(v)) return false;
        break;
    }
  }
  return true;
}

const reCache = new Map<string, RegExp>();
function anchored(re: string): RegExp {
  let r = reCache.get(re);
  if (!r) {
    // Prometheus 3 lets `.` match newlines; `s` keeps that so both sides are judged alike.
    r = new RegExp(`^(?:${re})$`, 's');
    reCache.set(re, r);
  }
  return r;
}
