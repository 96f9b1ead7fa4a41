import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';
import { StackshiftError } from '../errors/index.js';
import type { Change } from './rewrite.js';

/** How a JSON file is laid out, so a rewritten file looks like its original and its diff shows only the edits. */
export interface JsonLayout {
  /** Indentation unit ('' for single-line JSON). */
  indent: string;
  eol: '\n' | '\r\n';
  finalNewline: boolean;
}

export function detectLayout(text: string): JsonLayout {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const m = /^[[{]\r?\n([ \t]+)\S/.exec(text);
  return { indent: m ? m[1] : '', eol, finalNewline: /\n$/.test(text) };
}

export function stringifyLike(value: unknown, layout: JsonLayout): string {
  let s = layout.indent ? JSON.stringify(value, null, layout.indent) : JSON.stringify(value);
  if (layout.eol === '\r\n') s = s.replace(/\n/g, '\r\n');
  return layout.finalNewline ? s + layout.eol : s;
}

/** True when JSON.stringify with the detected layout reproduces the file byte for byte. */
export function roundTrips(text: string, parsed: unknown, layout: JsonLayout = detectLayout(text)): boolean {
  return stringifyLike(parsed, layout) === text;
}

/** Canonical form for "is this the same JSON": keys sorted, 2-space indent, trailing newline. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

interface Edit {
  offset: number;
  length: number;
  content: string;
}

/**
 * Serializes the migrated value. Files that JSON.stringify reproduces exactly are simply re-stringified
 * (fast); for the others (jsonnet output with `[ ]`, 1.0 floats, odd indentation, integer-like keys) each
 * change is applied as a text edit at its exact position, so every untouched byte stays as it was. The
 * result is re-parsed and compared with the migrated value: a mismatch is a bug and is never written.
 */
export function serializeMigrated(
  originalText: string,
  originalRoundTrips: boolean,
  migrated: unknown,
  changes: Change[],
  layout: JsonLayout = detectLayout(originalText),
): string {
  if (changes.length === 0) return originalText;
  if (originalRoundTrips) return stringifyLike(migrated, layout);
  const out = applyChanges(originalText, changes, layout);
  let reparsed: unknown;
  try {
    reparsed = JSON.parse(out);
  } catch (e) {
    throw new StackshiftError('internal', `text edit produced invalid JSON (${(e as Error).message})`, {
      hint: 'this is a bug in stackshift; please report it with the dashboard',
    });
  }
  if (JSON.stringify(reparsed) !== JSON.stringify(migrated)) {
    throw new StackshiftError('internal', 'text edit does not reproduce the migrated dashboard', {
      hint: 'this is a bug in stackshift; please report it with the dashboard',
    });
  }
  return out;
}

function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const m = /^[ \t]*/.exec(text.slice(start, offset));
  return m ? m[0] : '';
}

/** A value rendered for insertion at a position whose line starts with `baseIndent`. */
function render(value: unknown, layout: JsonLayout, baseIndent: string): string {
  if (!layout.indent || value === null || typeof value !== 'object') return JSON.stringify(value);
  return JSON.stringify(value, null, layout.indent)
    .split('\n')
    .join(layout.eol + baseIndent);
}

export function applyChanges(text: string, changes: Change[], layout: JsonLayout): string {
  const root = parseTree(text);
  if (!root) throw new StackshiftError('internal', 'cannot parse the JSON text for editing');
  const edits: Edit[] = [];
  for (const c of changes) {
    if (c.op === 'set') {
      const node = findNodeAtLocation(root, c.path);
      if (!node) throw new StackshiftError('internal', `no value at ${c.path.join('.')} to edit`);
      edits.push({
        offset: node.offset,
        length: node.length,
        content: render(c.to, layout, lineIndent(text, node.offset)),
      });
    } else if (c.op === 'insert') {
      edits.push(insertEdit(text, root, c, layout));
    } else {
      edits.push(removeEdit(root, c));
    }
  }
  edits.sort((a, b) => a.offset - b.offset);
  // Removing neighbouring array elements gives overlapping ranges (each takes a comma): merge them.
  const merged: Edit[] = [];
  for (const e of edits) {
    const prev = merged[merged.length - 1];
    if (prev && e.offset < prev.offset + prev.length) {
      if (prev.content !== '' || e.content !== '') throw new StackshiftError('internal', 'overlapping text edits');
      prev.length = Math.max(prev.offset + prev.length, e.offset + e.length) - prev.offset;
    } else merged.push({ ...e });
  }
  let out = '';
  let pos = 0;
  for (const e of merged) {
    out += text.slice(pos, e.offset) + e.content;
    pos = e.offset + e.length;
  }
  return out + text.slice(pos);
}

function insertEdit(text: string, root: Node, c: Change, layout: JsonLayout): Edit {
  const key = String(c.path[c.path.length - 1]);
  const parent = findNodeAtLocation(root, c.path.slice(0, -1));
  if (!parent || parent.type !== 'object')
    throw new StackshiftError('internal', `no object at ${c.path.slice(0, -1).join('.')} to insert into`);
  const props = parent.children ?? [];
  if (props.length > 0) {
    const last = props[props.length - 1];
    const indent = lineIndent(text, last.offset);
    const sep = layout.indent ? `,${layout.eol}${indent}` : ',';
    return {
      offset: last.offset + last.length,
      length: 0,
      content: `${sep}${JSON.stringify(key)}: ${render(c.to, layout, indent)}`,
    };
  }
  // Empty object: replace `{ }` with a one-property object laid out like its surroundings.
  const outer = lineIndent(text, parent.offset);
  const inner = outer + layout.indent;
  const body = layout.indent
    ? `{${layout.eol}${inner}${JSON.stringify(key)}: ${render(c.to, layout, inner)}${layout.eol}${outer}}`
    : `{${JSON.stringify(key)}:${JSON.stringify(c.to)}}`;
  return { offset: parent.offset, length: parent.length, content: body };
}

function removeEdit(root: Node, c: Change): Edit {
  const parent = findNodeAtLocation(root, c.path.slice(0, -1));
  const index = c.path[c.path.length - 1];
  if (!parent || parent.type !== 'array' || typeof index !== 'number' || !parent.children?.[index]) {
    throw new StackshiftError('internal', `no array element at ${c.path.join('.')} to remove`);
  }
  const items = parent.children;
  const node = items[index];
  if (items.length === 1) return { offset: parent.offset + 1, length: parent.length - 2, content: '' };
  if (index < items.length - 1)
    return { offset: node.offset, length: items[index + 1].offset - node.offset, content: '' };
  const prev = items[index - 1];
  return {
    offset: prev.offset + prev.length,
    length: node.offset + node.length - (prev.offset + prev.length),
    content: '',
  };
}
