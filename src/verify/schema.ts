// Why one file of about 420 lines: it is data, the JSON Schemas of the two verify reports, which share definitions;
// docs/format/verify-report.md and the tests read them from here.
// Format: docs/format/verify-report.md (every field of both reports, the consistency definition); keep it in step.
/**
 * JSON Schemas (draft 2020-12) of the two verify reports (`--report`, `--output json`), the contract for the
 * migration plan and the HTML report; tests validate real output against them.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer', minimum: 0 } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const strList = { type: 'array', items: str } as const;
const intList = { type: 'array', items: num } as const;
const labels = { type: 'object', additionalProperties: str } as const;
/** The fields every verify report opens with, after its kind. */
const reportHead = {
  generatedAt: { type: 'string', format: 'date-time' },
  source: { type: 'object', required: ['url'], properties: { url: str } },
  target: { type: 'object', required: ['url'], properties: { url: str } },
} as const;
const interval = {
  type: 'object',
  required: ['low', 'high', 'level', 'method'],
  properties: { low: num, high: num, level: num, method: str, lowPercent: num, highPercent: num, estimate: num },
} as const;
const difference = {
  type: 'object',
  required: ['timestampMs', 'kind'],
  properties: {
    timestampMs: num,
    kind: { enum: ['value', 'missing', 'unexpected'] },
    source: str,
    target: str,
    time: str,
  },
} as const;

export const metricsReportSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://stackshift.dev/schemas/verify-metrics-v1.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'schemaVersion',
    'kind',
    'generatedAt',
    'source',
    'target',
    'window',
    'selectors',
    'excluded',
    'evidence',
    'labelMapping',
    'externalLabels',
    'valueEquality',
    'mode',
    'consistency',
    'series',
    'metrics',
    'discrepancies',
    'warnings',
    'durationMs',
    'peakRssBytes',
  ],
  properties: {
    schemaVersion: { const: 1 },
    kind: { const: 'stackshift.verify.metrics' },
    ...reportHead,
    window: {
      type: 'object',
      required: ['start', 'end', 'startMs', 'endMs'],
      properties: { start: str, end: str, startMs: num, endMs: num },
    },
    selectors: strList,
    excluded: {
      type: 'object',
      additionalProperties: false,
      required: ['patterns', 'metrics'],
      properties: { patterns: strList, metrics: strList },
    },
    evidence: {
      type: 'object',
      additionalProperties: false,
      required: ['series', 'passed'],
      properties: { series: int, samples: int, passed: bool, reason: str },
    },
    interrupted: {
      type: 'object',
      additionalProperties: false,
      required: ['metricsDone', 'metricsTotal'],
      properties: { metricsDone: int, metricsTotal: int },
    },
    labelMapping: { type: 'object', required: ['add', 'drop'], properties: { add: labels, drop: strList } },
    externalLabels: { type: 'object', required: ['source', 'target'], properties: { source: labels, target: labels } },
    valueEquality: {
      type: 'object',
      required: ['mode', 'relativeTolerance'],
      properties: { mode: { enum: ['bit-exact', 'relative-tolerance'] }, relativeTolerance: num },
    },
    mode: { enum: ['full', 'sampled', 'series-only'] },
    consistency: {
      type: 'object',
      required: ['percent', 'basis', 'definition'],
      properties: {
        percent: { type: 'number', minimum: 0, maximum: 100 },
        basis: { enum: ['samples', 'series'] },
        definition: str,
        confidenceInterval: interval,
        gate: { type: 'object', required: ['minPercent', 'passed'], properties: { minPercent: num, passed: bool } },
      },
    },
    series: {
      type: 'object',
      additionalProperties: false,
      required: ['source', 'target', 'matched', 'missing', 'extra', 'percent'],
      properties: { source: int, target: int, matched: int, missing: int, extra: int, percent: num },
    },
    samples: {
      type: 'object',
      additionalProperties: false,
      required: [
        'expected',
        'matched',
        'mismatched',
        'missing',
        'unexpected',
        'seriesCompared',
        'seriesMatched',
        'seriesDifferent',
        'seriesMissing',
        'seriesExtra',
        'gaps',
        'shiftedTimestamps',
        'staleMarkersMissing',
        'staleMarkersUnexpected',
        'histogramSamplesNotCompared',
        'unknownChunks',
        'samplesRead',
        'refetches',
        'chunkMatches',
        'transientDifferences',
      ],
      properties: {
        expected: int,
        matched: int,
        mismatched: int,
        missing: int,
        unexpected: int,
        seriesCompared: int,
        seriesMatched: int,
        seriesDifferent: int,
        seriesMissing: int,
        seriesExtra: int,
        gaps: int,
        shiftedTimestamps: int,
        staleMarkersMissing: int,
        staleMarkersUnexpected: int,
        histogramSamplesNotCompared: int,
        unknownChunks: int,
        samplesRead: { type: 'object', required: ['source', 'target'], properties: { source: int, target: int } },
        refetches: int,
        chunkMatches: int,
        transientDifferences: int,
      },
    },
    sampling: {
      type: 'object',
      required: ['fraction', 'seed', 'population', 'sampled', 'seriesFullyConsistent'],
      properties: {
        fraction: num,
        seed: int,
        population: int,
        sampled: int,
        seriesFullyConsistent: {
          type: 'object',
          required: ['percent', 'confidenceInterval'],
          properties: { percent: num, confidenceInterval: interval },
        },
      },
    },
    metrics: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'sourceSeries', 'targetSeries', 'missingSeries', 'extraSeries'],
        properties: {
          name: str,
          sourceSeries: int,
          targetSeries: int,
          missingSeries: int,
          extraSeries: int,
          expected: int,
          matched: int,
          unexpected: int,
          percent: num,
        },
      },
    },
    discrepancies: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind', 'metric', 'series', 'labels', 'samples'],
        properties: {
          kind: { enum: ['missing-series', 'extra-series', 'different'] },
          metric: str,
          series: str,
          labels,
          samples: int,
          expected: int,
          matched: int,
          mismatched: int,
          missing: int,
          unexpected: int,
          firstDifference: difference,
          gaps: {
            type: 'array',
            items: {
              type: 'object',
              required: ['fromMs', 'toMs', 'samples'],
              properties: { fromMs: num, toMs: num, samples: int, from: str, to: str },
            },
          },
          shifted: {
            type: 'array',
            items: {
              type: 'object',
              required: ['fromMs', 'toMs', 'value'],
              properties: { fromMs: num, toMs: num, value: str },
            },
          },
          valueDifferences: { type: 'array', items: difference },
          missingSamples: intList,
          unexpectedSamples: intList,
          staleMarkersMissing: intList,
          staleMarkersUnexpected: intList,
        },
      },
    },
    warnings: strList,
    durationMs: num,
    peakRssBytes: num,
    throughput: {
      type: 'object',
      required: ['sourceSamplesPerSecond', 'samplesReadPerSecond'],
      properties: { sourceSamplesPerSecond: num, samplesReadPerSecond: num },
    },
  },
} as const;

const origin = {
  type: 'object',
  required: ['file', 'kind'],
  properties: { file: str, line: int, where: str, kind: { enum: ['query-file', 'rule-file', 'dashboard'] } },
} as const;
const latency = {
  type: 'object',
  required: ['count', 'p50Ms', 'p95Ms', 'maxMs'],
  properties: { count: int, p50Ms: num, p95Ms: num, maxMs: num },
} as const;

export const queriesReportSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://stackshift.dev/schemas/verify-queries-v1.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'schemaVersion',
    'kind',
    'generatedAt',
    'source',
    'target',
    'evaluation',
    'sources',
    'totals',
    'latency',
    'evidence',
    'results',
    'mismatches',
    'errorsOnBoth',
    'unsupported',
    'passed',
    'durationMs',
  ],
  properties: {
    schemaVersion: { const: 1 },
    kind: { const: 'stackshift.verify.queries' },
    ...reportHead,
    evaluation: {
      type: 'object',
      required: ['time', 'rangeMs', 'stepMs', 'tolerance', 'droppedLabels'],
      properties: { time: str, rangeMs: num, stepMs: num, tolerance: num, droppedLabels: strList },
    },
    sources: {
      type: 'array',
      items: {
        type: 'object',
        required: ['file', 'kind', 'queries', 'unsupported'],
        properties: { file: str, kind: str, queries: int, unsupported: int },
      },
    },
    totals: {
      type: 'object',
      required: [
        'queries',
        'executions',
        'equal',
        'mismatched',
        'emptyOnBoth',
        'errorOnBoth',
        'failedAsExpected',
        'notCompared',
        'unsupported',
        'skippedNonPrometheus',
      ],
      properties: {
        queries: int,
        executions: int,
        equal: int,
        mismatched: int,
        emptyOnBoth: int,
        errorOnBoth: int,
        failedAsExpected: int,
        notCompared: int,
        unsupported: int,
        skippedNonPrometheus: { type: 'object', additionalProperties: int },
      },
    },
    latency: {
      type: 'object',
      required: ['source', 'target', 'p50IncreasePercent', 'p95IncreasePercent', 'measuredFrom'],
      properties: {
        source: latency,
        target: latency,
        p50IncreasePercent: num,
        p95IncreasePercent: num,
        measuredFrom: { const: 'send' },
        gate: {
          type: 'object',
          required: ['maxIncreasePercent', 'floorMs', 'passed'],
          properties: { maxIncreasePercent: num, floorMs: num, passed: bool },
        },
      },
    },
    evidence: {
      type: 'object',
      additionalProperties: false,
      required: ['resultsCompared', 'resultsWithData', 'percentWithData', 'minNonEmptyPercent', 'passed'],
      properties: {
        resultsCompared: int,
        resultsWithData: int,
        percentWithData: num,
        minNonEmptyPercent: num,
        passed: bool,
        reason: str,
      },
    },
    results: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'type', 'outcome', 'seriesSource', 'seriesTarget'],
        properties: {
          id: int,
          type: { enum: ['instant', 'range'] },
          outcome: {
            enum: ['equal', 'empty-on-both', 'error-on-both', 'failed-as-expected', 'not-compared', 'mismatch'],
          },
          seriesSource: int,
          seriesTarget: int,
          error: str,
        },
      },
    },
    mismatches: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'query', 'origin', 'type', 'reason', 'differences', 'seriesSource', 'seriesTarget'],
        properties: {
          id: int,
          query: str,
          template: str,
          origin,
          type: { enum: ['instant', 'range'] },
          reason: str,
          seriesSource: int,
          seriesTarget: int,
          differences: {
            type: 'array',
            items: {
              type: 'object',
              required: ['series', 'kind'],
              properties: {
                series: str,
                kind: { enum: ['missing-in-target', 'extra-in-target', 'value', 'points'] },
                atMs: num,
                source: str,
                target: str,
              },
            },
          },
        },
      },
    },
    errorsOnBoth: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'query', 'origin', 'type', 'error'],
        properties: { id: int, query: str, origin, type: str, error: str },
      },
    },
    unsupported: {
      type: 'array',
      items: { type: 'object', required: ['origin', 'expr', 'reason'], properties: { origin, expr: str, reason: str } },
    },
    passed: bool,
    durationMs: num,
  },
} as const;
