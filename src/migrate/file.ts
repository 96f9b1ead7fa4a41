// Format: docs/format/migration-file.md (phases, steps, kinds and their params, gates, an example); keep it in step.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z, type ZodError } from 'zod';
import {
  EndpointSchema,
  parseYamlWithSchema,
  zodToInputError,
  type EndpointConfig,
  type ParsedYaml,
} from '../config/index.js';
import { InputError, UsageError } from '../errors/index.js';
import { GATE_SYNTAX, parseGate } from './gates.js';
import { stepKind, stepKindNames } from './registry.js';
import type { Gate, StepKind } from './types.js';

export const DEFAULT_MIGRATION_FILE = 'stackshift-migration.yaml';

const StepSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'step ids are lower-case letters, digits and -, e.g. backfill-metrics'),
    kind: z.string().min(1),
    title: z.string().min(1).optional(),
    params: z.record(z.string(), z.unknown()).default({}),
    gates: z.array(z.string()).optional(),
  })
  .strict();

export const MigrationFileSchema = z
  .object({
    version: z.literal(1),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a name of letters, digits, . _ and -')
      .default('migration'),
    description: z.string().optional(),
    endpoints: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]*$/, 'endpoint names are lower-case letters, digits, _ and -'),
        EndpointSchema,
      )
      .optional(),
    phases: z
      .array(
        z
          .object({
            name: z.string().min(1),
            steps: z.array(StepSchema).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export interface PlannedStep {
  id: string;
  title: string;
  kind: string;
  /** 1-based. */
  phase: number;
  /** Position across the whole plan, 0-based. */
  order: number;
  params: unknown;
  gates: Gate[];
  /** Hash of kind, params and gates: a done step whose definition changed is refused on resume. */
  hash: string;
}

export interface MigrationPlan {
  file: string;
  baseDir: string;
  name: string;
  description?: string;
  endpoints: Record<string, EndpointConfig>;
  phases: Array<{ index: number; name: string; steps: PlannedStep[] }>;
  steps: PlannedStep[];
  hash: string;
}

function fail(parsed: ParsedYaml, file: string, path: PropertyKey[], message: string, hint?: string): never {
  const e = zodToInputError(
    { issues: [{ code: 'custom', path, message }] } as unknown as ZodError,
    parsed.doc,
    parsed.lineCounter,
    file,
  );
  throw new InputError(e.message, e.location!, hint ?? 'see "stackshift migrate" in the README');
}

/**
 * Reads and validates a migration file: YAML with ${ENV} expansion, the file's shape, each step's params
 * against its kind, each gate against the figures its kind reports, and the endpoints the steps name.
 * Every error names file, line and key.
 */
export function parseMigrationText(
  text: string,
  file: string,
  knownEndpoints: string[] = [],
  env: Record<string, string | undefined> = process.env,
): MigrationPlan {
  const parsed = parseYamlWithSchema(text, file, MigrationFileSchema, env);
  const data = parsed.data;
  const endpoints = new Set([...knownEndpoints, ...Object.keys(data.endpoints ?? {})]);
  const seen = new Map<string, { kind: StepKind<any>; order: number }>();
  const phases: MigrationPlan['phases'] = [];
  const all: PlannedStep[] = [];
  data.phases.forEach((ph, pi) => {
    const steps: PlannedStep[] = [];
    ph.steps.forEach((st, si) => {
      const at = ['phases', pi, 'steps', si];
      if (seen.has(st.id))
        fail(parsed, file, [...at, 'id'], `step id "${st.id}" is used twice`, 'give every step its own id');
      const kind = stepKind(st.kind);
      if (!kind)
        fail(
          parsed,
          file,
          [...at, 'kind'],
          `unknown step kind "${st.kind}"`,
          `known kinds: ${stepKindNames().join(', ')}`,
        );
      const p = kind.params.safeParse(st.params);
      if (!p.success) {
        const shifted = {
          issues: p.error.issues.map((i) => ({ ...i, path: [...at, 'params', ...i.path] })),
        } as unknown as ZodError;
        const e = zodToInputError(shifted, parsed.doc, parsed.lineCounter, file);
        throw new InputError(
          e.message,
          e.location!,
          `see the "${st.kind}" step kind in the README (stackshift migrate)`,
        );
      }
      for (const name of kind.endpoints?.(p.data) ?? []) {
        if (!endpoints.has(name))
          fail(
            parsed,
            file,
            [...at, 'params'],
            `endpoint "${name}" is not defined`,
            `add endpoints.${name}.url to this file or to stackshift.yaml (known: ${[...endpoints].join(', ') || 'none'})`,
          );
      }
      const texts = st.gates ?? [...kind.defaultGates];
      const gates: Gate[] = texts.map((t, gi) => {
        const g = parseGate(t);
        if (!g) fail(parsed, file, [...at, 'gates', gi], `gate "${t}" is not understood`, `write ${GATE_SYNTAX}`);
        const owner = g.step ? seen.get(g.step) : { kind, order: all.length };
        if (!owner)
          fail(
            parsed,
            file,
            [...at, 'gates', gi],
            `gate "${t}" names step "${g.step}", which is not an earlier step of this file`,
            'a gate reads figures of its own step or of a step before it',
          );
        if (!owner.kind.figures.includes(g.figure))
          fail(
            parsed,
            file,
            [...at, 'gates', gi],
            `gate "${t}": a ${owner.kind.kind} step reports no figure "${g.figure}"`,
            `its figures: ${owner.kind.figures.join(', ') || 'none'}`,
          );
        return g;
      });
      if (kind.minGates && gates.length < kind.minGates)
        fail(
          parsed,
          file,
          [...at],
          `a ${kind.kind} step needs at least ${kind.minGates} gate(s)`,
          `add gates: ["<step>.<figure> >= <number>"], e.g. "verify-metrics.consistency >= 99.9"`,
        );
      const title = st.title ?? `${st.kind} (${st.id})`;
      const hash = createHash('sha256')
        .update(JSON.stringify({ kind: st.kind, params: p.data, gates: gates.map((g) => g.text) }))
        .digest('hex')
        .slice(0, 16);
      const step: PlannedStep = {
        id: st.id,
        title,
        kind: st.kind,
        phase: pi + 1,
        order: all.length,
        params: p.data,
        gates,
        hash,
      };
      seen.set(st.id, { kind, order: all.length });
      steps.push(step);
      all.push(step);
    });
    phases.push({ index: pi + 1, name: ph.name, steps });
  });
  const hash = createHash('sha256')
    .update(JSON.stringify(all.map((s) => [s.id, s.hash])))
    .digest('hex')
    .slice(0, 16);
  return {
    file,
    baseDir: dirname(file),
    name: data.name,
    description: data.description,
    endpoints: data.endpoints ?? {},
    phases,
    steps: all,
    hash,
  };
}

export function loadMigrationFile(
  path: string,
  knownEndpoints: string[] = [],
  env: Record<string, string | undefined> = process.env,
): MigrationPlan {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read migration file ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`,
      'write one with `stackshift migrate init`, or pass --file <path>',
    );
  }
  return parseMigrationText(text, file, knownEndpoints, env);
}
