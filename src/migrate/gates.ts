import type { Gate, GateResult } from './types.js';

const GATE =
  /^\s*(?:([A-Za-z0-9][A-Za-z0-9_-]*)\.)?([a-z][a-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*%?\s*$/;

/** `consistency >= 99.9` (a step's own figure) or `verify-metrics.consistency >= 99.9` (another step's). */
export function parseGate(text: string): Gate | undefined {
  const m = GATE.exec(text);
  if (!m) return undefined;
  return { step: m[1], figure: m[2], op: m[3] as Gate['op'], value: Number(m[4]), text: text.trim() };
}

export const GATE_SYNTAX =
  '"<figure> <op> <number>" with op one of >= > <= < == != (e.g. "consistency >= 99.9", "failed == 0"); a gate step names the step too: "verify-metrics.consistency >= 99.9"';

export function evaluateGate(g: Gate, figures: Record<string, number> | undefined): GateResult {
  const actual = figures?.[g.figure];
  const ok = actual !== undefined && Number.isFinite(actual) && compare(actual, g.op, g.value);
  return {
    gate: g.text,
    figure: g.step ? `${g.step}.${g.figure}` : g.figure,
    actual,
    expected: `${g.op} ${g.value}`,
    passed: ok,
    step: g.step,
  };
}

function compare(a: number, op: Gate['op'], b: number): boolean {
  switch (op) {
    case '>=':
      return a >= b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '<':
      return a < b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
}

/** The runbook's success criterion for data: > 99.9 % accuracy between old and new. */
export const DEFAULT_CONSISTENCY_GATE = 'consistency >= 99.9';
