import {
  isMap,
  isScalar,
  isSeq,
  type Document,
  type Node as YamlNode,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { FeatureToken, FlagArg, FlagEditor } from '../compat/index.js';
import type { TextEdit } from '../promql/index.js';
import { yamlScalarEmbedding } from './embedded.js';
import type { LineIndex } from './text.js';

/**
 * Prometheus command lines from wherever they are written down: a systemd unit's ExecStart, a plain
 * args or environment file, a Kubernetes container, a docker-compose service, a Prometheus Operator
 * resource, or a live server's /api/v1/status/flags. Every argument keeps its file range, so a fix
 * is an edit of that argument only.
 *
 * Why one file of ~460 lines: six places a command line is written down share one argument model and one
 * editor; each reader is a short function over that model, and splitting them would split the model.
 */
export type FlagSourceKind = 'systemd' | 'args' | 'kubernetes' | 'compose' | 'operator' | 'live';

export interface FlagSource {
  kind: FlagSourceKind;
  /** e.g. "container prometheus in Deployment monitoring/prometheus" */
  label: string;
  args: FlagArg[];
  edit: FlagEditor;
}

/** One shell word (or one YAML list item) with the map from its characters to file offsets. */
interface Word {
  text: string;
  /** file range of the whole word, quotes included */
  from: number;
  to: number;
  at(i: number): number;
  /** file edits for edits on `text` */
  translate(edits: readonly TextEdit[]): TextEdit[];
  /** edits that delete the word (and its list item, line or separator) */
  remove(): TextEdit[];
}

interface ArgWords {
  words: Word[];
  nameLen: number;
  valueWord?: Word;
  valueStart?: number;
}
const argWords = new WeakMap<FlagArg, ArgWords>();

/** Turns words into flag arguments: "--name=value", "--name value", or "--name" alone. */
function wordsToArgs(words: Word[]): FlagArg[] {
  const args: FlagArg[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.text.startsWith('-')) continue;
    const eq = w.text.indexOf('=');
    const dashed = eq < 0 ? w.text : w.text.slice(0, eq);
    const name = dashed.replace(/^-+/, '');
    const arg: FlagArg = { name, from: w.from, to: w.to, nameFrom: w.at(0), nameTo: w.at(dashed.length) };
    const rec: ArgWords = { words: [w], nameLen: dashed.length };
    let valueWord: Word | undefined;
    let valueStart = 0;
    if (eq >= 0) {
      valueWord = w;
      valueStart = eq + 1;
    } else if (words[i + 1] && !words[i + 1].text.startsWith('-') && !words[i + 1].text.startsWith('$')) {
      valueWord = words[++i];
      rec.words.push(valueWord);
      arg.to = valueWord.to;
    }
    if (valueWord) {
      arg.value = valueWord.text.slice(valueStart);
      arg.valueFrom = valueWord.at(valueStart);
      arg.valueTo = valueWord.at(valueWord.text.length);
      rec.valueWord = valueWord;
      rec.valueStart = valueStart;
      if (name === 'enable-feature') {
        const features: FeatureToken[] = [];
        let p = valueStart;
        for (const tok of arg.value.split(',')) {
          if (tok.trim()) features.push({ name: tok.trim(), from: valueWord.at(p), to: valueWord.at(p + tok.length) });
          p += tok.length + 1;
        }
        arg.features = features;
      }
    }
    argWords.set(arg, rec);
    args.push(arg);
  }
  return args;
}

/** Feature-token removal inside an argument's value word, in the word's own coordinates. */
function featureEdits(arg: FlagArg, token: FeatureToken, editor: FlagEditor): TextEdit[] {
  const rec = argWords.get(arg);
  const feats = arg.features ?? [];
  if (!rec?.valueWord || feats.length <= 1) return editor.removeArg(arg);
  const value = arg.value ?? '';
  // positions of each token inside the value word's text
  const starts: number[] = [];
  let p = rec.valueStart!;
  for (const tok of value.split(',')) {
    if (tok.trim()) starts.push(p);
    p += tok.length + 1;
  }
  const idx = feats.indexOf(token);
  const s = starts[idx];
  const e = s + feats[idx].name.length;
  const edit =
    idx < feats.length - 1
      ? { from: s, to: starts[idx + 1], insert: '' }
      : { from: starts[idx - 1] + feats[idx - 1].name.length, to: e, insert: '' };
  return rec.valueWord.translate([edit]);
}

function makeEditor(args: FlagArg[], addArg: (text: string) => TextEdit[] | undefined): FlagEditor {
  const editor: FlagEditor = {
    editable: true,
    removeArg(arg) {
      return argWords.get(arg)?.words.flatMap((w) => w.remove()) ?? [];
    },
    renameArg(arg, newName) {
      const rec = argWords.get(arg);
      return rec ? rec.words[0].translate([{ from: 0, to: rec.nameLen, insert: `--${newName}` }]) : [];
    },
    removeFeature(arg, token) {
      return featureEdits(arg, token, editor);
    },
    replaceArg(arg, text) {
      const rec = argWords.get(arg);
      if (!rec) return [];
      return [
        ...rec.words[0].translate([{ from: 0, to: rec.words[0].text.length, insert: text }]),
        ...rec.words.slice(1).flatMap((w) => w.remove()),
      ];
    },
    addArg,
    addFeature(arg, token) {
      const rec = argWords.get(arg);
      if (!rec?.valueWord) return [];
      const end = rec.valueWord.text.length;
      return rec.valueWord.translate([{ from: end, to: end, insert: `,${token}` }]);
    },
  };
  return editor;
}

export const READ_ONLY_EDITOR: FlagEditor = {
  editable: false,
  removeArg: () => [],
  renameArg: () => [],
  removeFeature: () => [],
  replaceArg: () => [],
  addArg: () => undefined,
  addFeature: () => [],
};

// ---------------------------------------------------------------- text sources (systemd, args files)

/** Shell-like words of text[start, end): whitespace separates, quotes group, backslash-newline continues. */
function shellWords(text: string, lines: LineIndex, start: number, end: number, continuation: boolean): Word[] {
  const words: Word[] = [];
  let i = start;
  while (i < end) {
    const c = text[i];
    if (
      c === ' ' ||
      c === '\t' ||
      c === '\n' ||
      c === '\r' ||
      (c === '\\' && (text[i + 1] === '\n' || text[i + 1] === '\r'))
    ) {
      i++;
      continue;
    }
    const ws = i;
    let quote: string | null = null;
    while (i < end) {
      const d = text[i];
      if (quote) {
        if (d === quote) quote = null;
        i++;
        continue;
      }
      if (d === '"' || d === "'") {
        quote = d;
        i++;
        continue;
      }
      if (d === ' ' || d === '\t' || d === '\n' || d === '\r') break;
      if (d === '\\' && text[i + 1] === '\n') break;
      i++;
    }
    const raw = text.slice(ws, i);
    const quoted = raw.length >= 2 && (raw[0] === '"' || raw[0] === "'") && raw[raw.length - 1] === raw[0];
    const inner = quoted ? raw.slice(1, -1) : raw;
    const base = quoted ? ws + 1 : ws;
    const wFrom = ws;
    const wTo = i;
    words.push({
      text: inner,
      from: wFrom,
      to: wTo,
      at: (k) => base + k,
      translate: (edits) => edits.map((e) => ({ from: base + e.from, to: base + e.to, insert: e.insert })),
      remove: () => removeWordInText(text, lines, wFrom, wTo, continuation),
    });
  }
  return words;
}

/** Deletes a word; when it is alone on its line the line goes, and a now-dangling "\" continuation too. */
function removeWordInText(text: string, lines: LineIndex, from: number, to: number, continuation: boolean): TextEdit[] {
  const ls = lines.lineStart(from);
  const nl = text.indexOf('\n', to);
  const le = nl < 0 ? text.length : nl;
  const before = text.slice(ls, from);
  const after = text.slice(to, le);
  if (/^\s*$/.test(before) && /^\s*\\?\s*$/.test(after)) {
    const edits: TextEdit[] = [{ from: ls, to: nl < 0 ? text.length : nl + 1, insert: '' }];
    if (continuation && !after.includes('\\') && ls > 0) {
      // the previous line's "\" continued into this one; without this line it would swallow the next
      const prevEnd = ls - 1;
      const prevStart = lines.lineStart(prevEnd);
      const prev = text.slice(prevStart, prevEnd);
      const m = /\s*\\\s*$/.exec(prev);
      if (m) edits.push({ from: prevStart + m.index, to: prevEnd, insert: '' });
    }
    return edits;
  }
  let s = from;
  while (s > ls && (text[s - 1] === ' ' || text[s - 1] === '\t')) s--;
  let e = to;
  // the first word of a line takes the blanks after it instead
  if (s === ls) while (e < le && (text[e] === ' ' || text[e] === '\t')) e++;
  return [{ from: s, to: e, insert: '' }];
}

/**
 * Adds a flag after the last one. When the last flag starts its own line below earlier content (one flag per
 * line, as in a systemd ExecStart split with "\" or the args file of the local upgrade driver: binary on line
 * 1, then one flag per line), the new flag gets its own line with the same indent; on a single-line command it
 * goes after the last flag on that line.
 */
function appendArgInText(
  text: string,
  lines: LineIndex,
  args: FlagArg[],
  kind: 'systemd' | 'args',
): (t: string) => TextEdit[] | undefined {
  return (t) => {
    const last = args[args.length - 1];
    if (!last) return undefined;
    const ls = lines.lineStart(last.from);
    const indent = text.slice(ls, last.from);
    const ownLine =
      /^[ \t]*$/.test(indent) &&
      (indent !== '' ||
        text
          .slice(0, ls)
          .split('\n')
          .some((l) => l.trim() !== '' && !l.trim().startsWith('#')));
    if (ownLine) {
      return [{ from: last.to, to: last.to, insert: kind === 'systemd' ? ` \\\n${indent}${t}` : `\n${indent}${t}` }];
    }
    return [{ from: last.to, to: last.to, insert: ` ${t}` }];
  };
}

/**
 * Every ExecStart= assignment of a unit text as one logical line: `at` where the assignment starts, `from` where
 * its command starts (after "=", blanks and the prefixes -@:+!), `to` the first newline not preceded by "\"
 * (systemd's continuation). The lint engine and the upgrade's systemd driver read units through this one rule.
 */
export function execStartLines(text: string): Array<{ at: number; from: number; to: number }> {
  const out: Array<{ at: number; from: number; to: number }> = [];
  const re = /^[ \t]*ExecStart[ \t]*=[ \t]*[-@:+!]*/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const from = m.index + m[0].length;
    let to = from;
    for (;;) {
      const nl = text.indexOf('\n', to);
      if (nl < 0) {
        to = text.length;
        break;
      }
      if (/\\\r?$/.test(text.slice(to, nl))) {
        to = nl + 1;
        continue;
      }
      to = nl;
      break;
    }
    out.push({ at: m.index, from, to });
  }
  return out;
}

/** systemd unit: every ExecStart= that runs prometheus (continuation lines included). */
export function systemdFlagSources(text: string, lines: LineIndex): FlagSource[] {
  const out: FlagSource[] = [];
  for (const line of execStartLines(text)) {
    const words = shellWords(text, lines, line.from, line.to, true);
    if (words.length === 0 || !/prometheus/.test(words[0].text)) continue;
    const args = wordsToArgs(words.slice(1));
    out.push({
      kind: 'systemd',
      label: `ExecStart (line ${lines.position(line.at).line})`,
      args,
      edit: makeEditor(args, appendArgInText(text, lines, args, 'systemd')),
    });
  }
  return out;
}

/** A plain args file: one or many flags per line, "#" comments, or KEY="--flags ..." environment lines. */
export function argsFileFlagSource(text: string, lines: LineIndex): FlagSource {
  const words: Word[] = [];
  let pos = 0;
  for (const line of text.split('\n')) {
    const start = pos;
    pos += line.length + 1;
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const env = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=(["']?)/.exec(line);
    if (env && !line.trimStart().startsWith('-')) {
      const q = env[1];
      const vs = start + env[0].length;
      const ve = q ? text.lastIndexOf(q, start + line.length) : start + line.length;
      words.push(...shellWords(text, lines, vs, ve > vs ? ve : start + line.length, false));
      continue;
    }
    words.push(
      ...shellWords(text, lines, start, start + line.length, false).filter(
        (w, i) => !(i === 0 && /(^|\/)prometheus$/.test(w.text)),
      ),
    );
  }
  const args = wordsToArgs(words);
  return { kind: 'args', label: 'args', args, edit: makeEditor(args, appendArgInText(text, lines, args, 'args')) };
}

// ---------------------------------------------------------------- YAML sources

function scalarWord(text: string, lines: LineIndex, seq: YAMLSeq, node: Scalar): Word {
  const emb = yamlScalarEmbedding(text, node);
  return {
    text: emb.value,
    from: emb.from,
    to: emb.to,
    at: (i) => emb.offsetOf(i),
    translate: (edits) => emb.translate(edits),
    remove: () => removeSeqItem(text, lines, seq, node),
  };
}

function removeSeqItem(text: string, lines: LineIndex, seq: YAMLSeq, node: YamlNode): TextEdit[] {
  const idx = seq.items.indexOf(node as never);
  const r = node.range!;
  if (seq.flow) {
    const next = seq.items[idx + 1] as YamlNode | undefined;
    const prev = seq.items[idx - 1] as YamlNode | undefined;
    if (next?.range) return [{ from: r[0], to: next.range[0], insert: '' }];
    if (prev?.range) return [{ from: prev.range[1], to: r[1], insert: '' }];
    return [{ from: r[0], to: r[1], insert: '' }];
  }
  const ls = lines.lineStart(r[0]);
  return [{ from: ls, to: lines.nextLineStart(Math.max(r[0], r[1] - 1)), insert: '' }];
}

function appendSeqItem(text: string, lines: LineIndex, seq: YAMLSeq): (t: string) => TextEdit[] | undefined {
  return (t) => {
    const last = seq.items[seq.items.length - 1] as YamlNode | undefined;
    if (!last?.range) return undefined;
    const enc = /^-*[\w][\w./=,:-]*$/.test(t) ? t : JSON.stringify(t);
    if (seq.flow) return [{ from: last.range[1], to: last.range[1], insert: `, ${JSON.stringify(t)}` }];
    const ls = lines.lineStart(last.range[0]);
    const dash = text.slice(ls, last.range[0]);
    const at = lines.nextLineStart(Math.max(last.range[0], last.range[1] - 1));
    return [{ from: at, to: at, insert: `${at === text.length && !text.endsWith('\n') ? '\n' : ''}${dash}${enc}\n` }];
  };
}

function seqSource(
  kind: FlagSourceKind,
  label: string,
  text: string,
  lines: LineIndex,
  seqs: YAMLSeq[],
): FlagSource | undefined {
  const words: Word[] = [];
  for (const seq of seqs)
    for (const item of seq.items)
      if (isScalar(item) && item.range) words.push(scalarWord(text, lines, seq, item as Scalar));
  if (words.length === 0) return undefined;
  const args = wordsToArgs(words);
  const target = seqs[seqs.length - 1];
  return { kind, label, args, edit: makeEditor(args, appendSeqItem(text, lines, target)) };
}

/** A docker-compose "command:" written as one string: words inside one scalar. */
function stringCommandSource(
  kind: FlagSourceKind,
  label: string,
  text: string,
  lines: LineIndex,
  node: Scalar,
): FlagSource | undefined {
  const emb = yamlScalarEmbedding(text, node);
  const value = emb.value;
  const words: Word[] = [];
  const re = /\S+/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const s = m.index;
    const e = s + m[0].length;
    let ds = s;
    while (ds > 0 && /[ \t]/.test(value[ds - 1])) ds--;
    words.push({
      text: m[0],
      from: emb.offsetOf(s),
      to: emb.offsetOf(e),
      at: (i) => emb.offsetOf(s + i),
      translate: (edits) => emb.translate(edits.map((x) => ({ from: s + x.from, to: s + x.to, insert: x.insert }))),
      remove: () => emb.translate([{ from: ds, to: e, insert: '' }]),
    });
  }
  const args = wordsToArgs(words.filter((w, i) => !(i === 0 && !w.text.startsWith('-'))));
  return {
    kind,
    label,
    args,
    edit: makeEditor(args, (t) => emb.translate([{ from: value.length, to: value.length, insert: ` ${t}` }])),
  };
}

function get(node: unknown, key: string): unknown {
  return isMap(node) ? node.get(key, true) : undefined;
}
function str(node: unknown): string | undefined {
  return isScalar(node) && node.value !== null ? String(node.value) : undefined;
}

function isPrometheusContainer(c: YAMLMap): boolean {
  const image = str(get(c, 'image')) ?? '';
  const name = str(get(c, 'name')) ?? '';
  const words = [get(c, 'command'), get(c, 'args')].flatMap((s) => (isSeq(s) ? s.items.map(str) : [str(s)])).join(' ');
  if (/operator|exporter|pushgateway|alertmanager|config-reloader/.test(image)) return false;
  return (
    /(^|\/)prometheus(:|@|$)/.test(image.split('/').pop() ?? '') ||
    /prom\/prometheus|prometheus\/prometheus|bitnami\/prometheus/.test(image) ||
    (name === 'prometheus' && /--config\.file|--storage\.tsdb/.test(words)) ||
    /--config\.file=\S*prometheus/.test(words)
  );
}

/** Flags in Kubernetes workloads, Prometheus Operator resources and docker-compose services. */
export function yamlFlagSources(text: string, lines: LineIndex, docs: Document.Parsed[]): FlagSource[] {
  const out: FlagSource[] = [];
  const visit = (root: unknown): void => {
    if (!isMap(root)) return;
    const kind = str(get(root, 'kind'));
    const meta = get(root, 'metadata');
    const name = [str(get(meta, 'namespace')), str(get(meta, 'name'))].filter(Boolean).join('/');
    if (kind === 'List') {
      const items = get(root, 'items');
      if (isSeq(items)) items.items.forEach(visit);
      return;
    }
    if (kind === 'Prometheus' && /monitoring\.coreos\.com/.test(str(get(root, 'apiVersion')) ?? '')) {
      const spec = get(root, 'spec');
      const feats = get(spec, 'enableFeatures');
      if (isSeq(feats) && feats.items.length && feats.range) {
        const seq = feats as YAMLSeq;
        const words = seq.items
          .filter((i) => isScalar(i) && i.range)
          .map((i) => scalarWord(text, lines, seq, i as Scalar));
        const arg: FlagArg = {
          name: 'enable-feature',
          value: words.map((w) => w.text).join(','),
          from: seq.range![0],
          to: seq.range![1],
          nameFrom: seq.range![0],
          nameTo: seq.range![0],
          features: words.map((w) => ({ name: w.text, from: w.from, to: w.to })),
        };
        const editor: FlagEditor = {
          ...READ_ONLY_EDITOR,
          editable: true,
          removeFeature: (_a, tok) => words[arg.features!.indexOf(tok)]?.remove() ?? [],
          addFeature: (_a, tok) => appendSeqItem(text, lines, seq)(tok) ?? [],
        };
        out.push({ kind: 'operator', label: `Prometheus ${name} spec.enableFeatures`, args: [arg], edit: editor });
      }
      const extra = get(spec, 'additionalArgs');
      if (isSeq(extra)) {
        const args: FlagArg[] = [];
        for (const item of extra.items) {
          const n = get(item, 'name');
          if (!isScalar(n) || !n.range || !(item as YamlNode).range) continue;
          const r = (item as YamlNode).range!;
          args.push({
            name: String(n.value).replace(/^-+/, ''),
            value: str(get(item, 'value')),
            from: r[0],
            to: r[1],
            nameFrom: n.range[0],
            nameTo: n.range[1],
          });
        }
        if (args.length) {
          const seq = extra as YAMLSeq;
          out.push({
            kind: 'operator',
            label: `Prometheus ${name} spec.additionalArgs`,
            args,
            edit: {
              ...READ_ONLY_EDITOR,
              editable: true,
              removeArg: (a) =>
                removeSeqItem(
                  text,
                  lines,
                  seq,
                  seq.items.find((i) => (i as YamlNode).range?.[0] === a.from) as YamlNode,
                ),
            },
          });
        }
      }
      return;
    }
    const spec = get(root, 'spec');
    const podSpec =
      kind === 'Pod'
        ? spec
        : kind === 'CronJob'
          ? get(get(get(get(spec, 'jobTemplate'), 'spec'), 'template'), 'spec')
          : get(get(spec, 'template'), 'spec');
    for (const listKey of ['containers', 'initContainers']) {
      const containers = get(podSpec, listKey);
      if (!isSeq(containers)) continue;
      for (const c of containers.items) {
        if (!isMap(c) || !isPrometheusContainer(c as YAMLMap)) continue;
        const seqs = [get(c, 'command'), get(c, 'args')].filter((s): s is YAMLSeq => isSeq(s));
        const src = seqSource(
          'kubernetes',
          `container ${str(get(c, 'name')) ?? '?'} in ${kind} ${name}`,
          text,
          lines,
          seqs,
        );
        if (src) out.push(src);
      }
    }
    const services = get(root, 'services');
    if (isMap(services)) {
      for (const pair of services.items) {
        const svc = pair.value;
        if (!isMap(svc)) continue;
        const image = str(get(svc, 'image')) ?? '';
        if (!/prometheus/.test(image) || /exporter|pushgateway|alertmanager/.test(image)) continue;
        const cmd = get(svc, 'command');
        const label = `service ${str(pair.key)}`;
        const src = isSeq(cmd)
          ? seqSource('compose', label, text, lines, [cmd as YAMLSeq])
          : isScalar(cmd) && cmd.range
            ? stringCommandSource('compose', label, text, lines, cmd as Scalar)
            : undefined;
        if (src) out.push(src);
      }
    }
  };
  for (const d of docs) visit(d.contents);
  return out;
}

/** True when a YAML document holds something yamlFlagSources reads. */
export function looksLikeManifest(root: unknown): boolean {
  if (!isMap(root)) return false;
  const kind = str(get(root, 'kind'));
  return Boolean(kind && str(get(root, 'apiVersion'))) || isMap(get(root, 'services'));
}

// ---------------------------------------------------------------- a live server

/**
 * /api/v1/status/flags lists every flag with its effective value, defaults included (research §5), so
 * only what differs from the 2.x default counts as set: enable-feature tokens, and removed flags whose
 * value is not one of their defaults.
 */
export function liveFlagSource(
  url: string,
  flags: Record<string, string>,
  removedDefaults: Record<string, string[]>,
): FlagSource {
  const args: FlagArg[] = [];
  for (const [name, value] of Object.entries(flags)) {
    const isRemoved = name in removedDefaults;
    if (name === 'enable-feature') {
      if (!value) continue;
      args.push({
        name,
        value,
        from: 0,
        to: 0,
        nameFrom: 0,
        nameTo: 0,
        features: value
          .split(',')
          .filter(Boolean)
          .map((f) => ({ name: f.trim(), from: 0, to: 0 })),
      });
    } else if (isRemoved && !removedDefaults[name].includes(value)) {
      args.push({ name, value, from: 0, to: 0, nameFrom: 0, nameTo: 0 });
    } else if (
      name === 'log.format' ||
      ((name === 'web.enable-remote-write-receiver' || name === 'agent') && value === 'true')
    ) {
      args.push({ name, value, from: 0, to: 0, nameFrom: 0, nameTo: 0 });
    }
  }
  return { kind: 'live', label: `flags of ${url}`, args, edit: READ_ONLY_EDITOR };
}
