/** JSON Schema (draft 2020-12) of `stackshift assess --output json`; tests validate real output against it. */
const str = { type: 'string' } as const;
const int = { type: 'integer', minimum: 0 } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;

export const assessmentSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://stackshift.dev/schemas/assess-v1.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'schemaVersion',
    'generatedAt',
    'prometheus',
    'upgradePath',
    'flags',
    'runtime',
    'storage',
    'remote',
    'targets',
    'rules',
    'findings',
  ],
  properties: {
    schemaVersion: { const: 1 },
    generatedAt: { type: 'string', format: 'date-time' },
    prometheus: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'version', 'revision', 'branch'],
      properties: { url: str, version: str, revision: str, branch: str, goVersion: str, buildDate: str },
    },
    upgradePath: {
      type: 'object',
      additionalProperties: false,
      required: ['target', 'stages'],
      properties: {
        target: str,
        stages: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to', 'kind', 'note'],
            properties: { from: str, to: str, kind: { enum: ['minor-bridge', 'major', 'patch-or-minor'] }, note: str },
          },
        },
      },
    },
    flags: {
      type: 'object',
      additionalProperties: false,
      required: ['important', 'featureFlags'],
      properties: {
        important: { type: 'object', additionalProperties: str },
        featureFlags: { type: 'array', items: str },
      },
    },
    runtime: {
      type: 'object',
      additionalProperties: false,
      properties: {
        startTime: str,
        reloadConfigSuccess: bool,
        lastConfigTime: str,
        corruptionCount: int,
        storageRetention: str,
        goroutineCount: int,
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      required: ['headSeries', 'headChunks', 'topMetrics'],
      properties: {
        retentionTime: str,
        retentionSize: str,
        headSeries: int,
        headChunks: int,
        headMinTime: str,
        headMaxTime: str,
        totalSeries: int,
        topMetrics: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'series'],
            properties: { name: str, series: int },
          },
        },
        dataDir: {
          type: 'object',
          additionalProperties: false,
          required: ['path', 'tsdbBytes', 'freeBytes', 'totalBytes', 'blocks', 'walBytes'],
          properties: { path: str, tsdbBytes: int, freeBytes: int, totalBytes: int, blocks: int, walBytes: int },
        },
      },
    },
    remote: {
      type: 'object',
      additionalProperties: false,
      required: ['write', 'read'],
      properties: {
        write: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['url'],
            properties: { url: str, name: str, protobufMessage: str, queueConfig: { type: 'object' } },
          },
        },
        read: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['url'],
            properties: { url: str, name: str, readRecent: bool },
          },
        },
      },
    },
    targets: {
      type: 'object',
      additionalProperties: false,
      required: ['up', 'down', 'unknown', 'list'],
      properties: {
        up: int,
        down: int,
        unknown: int,
        list: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['pool', 'url', 'health', 'lastError', 'lastScrape'],
            properties: {
              pool: str,
              url: str,
              health: { enum: ['up', 'down', 'unknown'] },
              lastError: str,
              lastScrape: str,
              job: str,
              instance: str,
            },
          },
        },
      },
    },
    rules: {
      type: 'object',
      additionalProperties: false,
      required: ['groups', 'rules', 'unhealthy', 'list', 'groupList'],
      properties: {
        groups: int,
        rules: int,
        unhealthy: int,
        list: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['group', 'file', 'name', 'type', 'health'],
            properties: {
              group: str,
              file: str,
              name: str,
              type: { enum: ['alerting', 'recording'] },
              health: { enum: ['ok', 'err', 'unknown'] },
              lastError: str,
              evaluationTimeSeconds: num,
            },
          },
        },
        groupList: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'file', 'interval', 'rules'],
            properties: { name: str, file: str, interval: num, evaluationTimeSeconds: num, rules: int },
          },
        },
      },
    },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'severity', 'message'],
        properties: {
          id: str,
          severity: { enum: ['critical', 'warning', 'info'] },
          message: str,
          advice: str,
          source: str,
        },
      },
    },
  },
} as const;
