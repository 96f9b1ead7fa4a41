import type { ValueEquality } from './types.js';

/**
 * Sample-by-sample comparison of one series on two sides. Samples are paired by timestamp; each source
 * sample is matched, mismatched (same timestamp, other value) or missing, and each target sample without a
 * source sample at its timestamp is unexpected. Runs of differences are then named the way an SRE reads
 * them: a gap (two or more consecutive source samples missing), a shifted timestamp (one sample missing and
 * one unexpected next to it with the same value), a lost or extra stale marker.
 *
 * Values are judged on their IEEE-754 words, never through JS numbers: a NaN's payload (the stale marker
 * is NaN 0x7ff0000000000002) is not guaranteed to survive a round trip through a JS value.
 */

export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;

/** The 32-bit words of a Float64Array (little-endian: low word first). */
export function words(a: Float64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

const f64 = new Float64Array(1);
const u32 = words(f64);

export function isStaleWords(lo: number, hi: number): boolean {
  return lo === STALE_NAN_LO && hi === STALE_NAN_HI;
}

export function isStaleNaN(v: number): boolean {
  f64[0] = v;
  return isStaleWords(u32[0], u32[1]);
}

/** A Float64Array holding one stale marker, built from its bits. */
export function staleMarkerArray(n = 1): Float64Array {
  const a = new Float64Array(n);
  const w = words(a);
  for (let i = 0; i < n; i++) {
    w[2 * i] = STALE_NAN_LO;
    w[2 * i + 1] = STALE_NAN_HI;
  }
  return a;
}

/**
 * Bit-exact by default. With a tolerance, the PromQL compliance tester's rule: |a-b| <= tol * min(|a|,|b|)
 * and NaN equal to NaN; a stale marker only ever equals a stale marker (it ends a series, it is no value).
 */
function equalAt(
  sv: Float64Array,
  sw: Uint32Array,
  i: number,
  tv: Float64Array,
  tw: Uint32Array,
  j: number,
  tol: number,
): boolean {
  const slo = sw[2 * i],
    shi = sw[2 * i + 1],
    tlo = tw[2 * j],
    thi = tw[2 * j + 1];
  if (slo === tlo && shi === thi) return true;
  if (tol === 0) return false;
  if (isStaleWords(slo, shi) || isStaleWords(tlo, thi)) return false;
  const a = sv[i];
  const b = tv[j];
  if (a !== a || b !== b) return a !== a && b !== b;
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= tol * Math.min(Math.abs(a), Math.abs(b));
}

/** The same rule for two plain numbers (query results carry no stale markers). */
export function approxEqual(a: number, b: number, tol: number): boolean {
  if (a !== a || b !== b) return a !== a && b !== b;
  if (a === b) return true;
  if (tol === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= tol * Math.min(Math.abs(a), Math.abs(b));
}

/** Values in reports are strings: JSON has no NaN, and a stale marker must read as one. */
export function formatValueAt(v: Float64Array, w: Uint32Array, i: number): string {
  if (isStaleWords(w[2 * i], w[2 * i + 1])) return 'StaleNaN';
  return formatNumber(v[i]);
}

export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return String(x);
}

export interface SampleDifference {
  timestampMs: number;
  kind: 'value' | 'missing' | 'unexpected';
  source?: string;
  target?: string;
}

export interface Gap {
  fromMs: number;
  toMs: number;
  samples: number;
}

export interface SeriesComparison {
  expected: number;
  matched: number;
  mismatched: number;
  missing: number;
  unexpected: number;
  firstDifference?: SampleDifference;
  /** First few differing values (same timestamp). */
  valueDifferences: SampleDifference[];
  /** Runs of two or more consecutive source samples absent from the target. */
  gaps: Gap[];
  shifted: Array<{ fromMs: number; toMs: number; value: string }>;
  /** Single missing source samples that are neither part of a gap, a shift nor a stale marker. */
  missingSamples: number[];
  unexpectedSamples: number[];
  staleMarkersMissing: number[];
  staleMarkersUnexpected: number[];
}

/** Detail lists stop growing here; counts never do. */
export const DETAIL_CAP = 10;

interface Run {
  kind: 'missing' | 'unexpected';
  fromMs: number;
  toMs: number;
  n: number;
  /** The single sample's value (for shift pairing) when n === 1 and known. */
  value?: string;
  stale: boolean;
  afterMatch: boolean;
}

export function emptyComparison(): SeriesComparison {
  return {
    expected: 0,
    matched: 0,
    mismatched: 0,
    missing: 0,
    unexpected: 0,
    valueDifferences: [],
    gaps: [],
    shifted: [],
    missingSamples: [],
    unexpectedSamples: [],
    staleMarkersMissing: [],
    staleMarkersUnexpected: [],
  };
}

export function isClean(c: SeriesComparison): boolean {
  return c.mismatched === 0 && c.missing === 0 && c.unexpected === 0;
}

/**
 * Fed window by window in time order (equal windows only as a count), so one comparator follows a series
 * across read windows and a gap crossing a window boundary is still one gap.
 */
export class SeriesComparator {
  readonly result: SeriesComparison = emptyComparison();
  private open: Run | undefined;
  private prev: Run | undefined;
  private sawMatch = false;

  constructor(private readonly eq: ValueEquality) {}

  /** Samples known equal on both sides (equal digests or equal bytes). */
  addMatched(n: number): void {
    if (n <= 0) return;
    this.result.expected += n;
    this.result.matched += n;
    this.closeRun();
    this.sawMatch = true;
  }

  /** Both sides' samples of the same time range, each in time order. */
  feed(st: Float64Array, sv: Float64Array, tt: Float64Array, tv: Float64Array): void {
    const r = this.result;
    const sw = words(sv);
    const tw = words(tv);
    const tol = this.eq.relativeTolerance;
    let i = 0;
    let j = 0;
    const ns = st.length;
    const nt = tt.length;
    while (i < ns || j < nt) {
      if (j >= nt || (i < ns && st[i] < tt[j])) {
        this.event('missing', st[i], formatValueAt(sv, sw, i), isStaleWords(sw[2 * i], sw[2 * i + 1]));
        r.expected++;
        r.missing++;
        i++;
      } else if (i >= ns || tt[j] < st[i]) {
        this.event('unexpected', tt[j], formatValueAt(tv, tw, j), isStaleWords(tw[2 * j], tw[2 * j + 1]));
        r.unexpected++;
        j++;
      } else {
        r.expected++;
        if (equalAt(sv, sw, i, tv, tw, j, tol)) {
          r.matched++;
        } else {
          r.mismatched++;
          const d: SampleDifference = {
            timestampMs: st[i],
            kind: 'value',
            source: formatValueAt(sv, sw, i),
            target: formatValueAt(tv, tw, j),
          };
          if (!r.firstDifference) r.firstDifference = d;
          if (r.valueDifferences.length < DETAIL_CAP) r.valueDifferences.push(d);
        }
        this.closeRun();
        this.sawMatch = true;
        i++;
        j++;
      }
    }
  }

  /**
   * A whole read window in which the series exists on one side only, known by its digest: `n` samples
   * from `fromMs` to `toMs`, `stale` of them stale markers.
   */
  addOneSided(kind: 'missing' | 'unexpected', fromMs: number, toMs: number, n: number, stale: number): void {
    if (n <= 0) return;
    const r = this.result;
    if (kind === 'missing') {
      r.expected += n;
      r.missing += n;
    } else r.unexpected += n;
    const isStale = n === 1 && stale === 1;
    if (!r.firstDifference)
      r.firstDifference = {
        timestampMs: fromMs,
        kind,
        ...(isStale ? { [kind === 'missing' ? 'source' : 'target']: 'StaleNaN' } : {}),
      };
    if (this.open && this.open.kind === kind) {
      this.open.toMs = toMs;
      this.open.n += n;
      this.open.value = undefined;
      return;
    }
    this.closeRun();
    this.open = { kind, fromMs, toMs, n, stale: isStale, afterMatch: this.sawMatch };
    this.sawMatch = false;
  }

  private event(kind: 'missing' | 'unexpected', ts: number, value: string, stale: boolean): void {
    const r = this.result;
    if (!r.firstDifference)
      r.firstDifference = { timestampMs: ts, kind, [kind === 'missing' ? 'source' : 'target']: value };
    if (this.open && this.open.kind === kind) {
      this.open.toMs = ts;
      this.open.n++;
      this.open.value = undefined;
      return;
    }
    this.closeRun();
    this.open = { kind, fromMs: ts, toMs: ts, n: 1, value, stale, afterMatch: this.sawMatch };
    this.sawMatch = false;
  }

  /** Classifies a finished run, pairing a single missing and a single unexpected sample into a shift. */
  private closeRun(): void {
    const run = this.open;
    if (!run) return;
    this.open = undefined;
    const prev = this.prev;
    if (
      prev &&
      !run.afterMatch &&
      prev.n === 1 &&
      run.n === 1 &&
      prev.kind !== run.kind &&
      !run.stale &&
      !prev.stale &&
      prev.value !== undefined &&
      prev.value === run.value
    ) {
      this.unclassifySingle(prev);
      const from = prev.kind === 'missing' ? prev.fromMs : run.fromMs;
      const to = prev.kind === 'missing' ? run.fromMs : prev.fromMs;
      if (this.result.shifted.length < DETAIL_CAP)
        this.result.shifted.push({ fromMs: from, toMs: to, value: run.value });
      this.prev = undefined;
      return;
    }
    this.classify(run);
    this.prev = run;
  }

  private classify(run: Run): void {
    const r = this.result;
    if (run.kind === 'missing') {
      if (run.n >= 2) {
        if (r.gaps.length < DETAIL_CAP) r.gaps.push({ fromMs: run.fromMs, toMs: run.toMs, samples: run.n });
      } else if (run.stale) pushCapped(r.staleMarkersMissing, run.fromMs);
      else pushCapped(r.missingSamples, run.fromMs);
    } else if (run.n === 1 && run.stale) pushCapped(r.staleMarkersUnexpected, run.fromMs);
    else pushCapped(r.unexpectedSamples, run.fromMs);
  }

  private unclassifySingle(run: Run): void {
    const r = this.result;
    const list = run.kind === 'missing' ? r.missingSamples : r.unexpectedSamples;
    const k = list.lastIndexOf(run.fromMs);
    if (k >= 0) list.splice(k, 1);
  }

  finish(): SeriesComparison {
    this.closeRun();
    return this.result;
  }
}

function pushCapped(list: number[], v: number): void {
  if (list.length < DETAIL_CAP) list.push(v);
}

/** Index of the first element >= x in a sorted array. */
export function lowerBound(a: Float64Array, x: number, from = 0, to = a.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Byte equality of two typed-array views (memcmp): the fast path for an already-equal copy. */
export function sameBytes(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
