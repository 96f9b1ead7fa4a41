import { isMap, isScalar, isSeq, Scalar, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import type { YamlEditor } from '../compat/index.js';
import type { TextEdit } from '../promql/index.js';
import type { LineIndex } from './text.js';

/**
 * Edits of a YAML file as text edits on exact source ranges, so comments, blank lines, key order,
 * anchors and quoting everywhere else stay byte-for-byte as they were (the yaml library's node ranges
 * locate everything; re-serialising the document would reformat it).
 */
export function yamlEditor(text: string, lines: LineIndex, root: YAMLMap | undefined): YamlEditor {
  const editor: YamlEditor = {
    pair(map, key) {
      if (!isMap(map)) return undefined;
      return (map.items as Array<Pair<YamlNode, YamlNode | null>>).find((p) => isScalar(p.key) && p.key.value === key);
    },
    map(map, key) {
      const v = editor.pair(map, key)?.value;
      return isMap(v) ? (v as YAMLMap) : undefined;
    },
    mapItems(map, key) {
      const v = editor.pair(map, key)?.value;
      return isSeq(v) ? (v.items.filter((i) => isMap(i)) as YAMLMap[]) : [];
    },
    scalar(node) {
      if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
      // keep numbers as written (1.0 stays "1.0")
      if (typeof node.value !== 'string' && node.range) return text.slice(node.range[0], node.range[1]);
      return String(node.value);
    },
    range(node) {
      const r = (node as YamlNode | undefined)?.range;
      return r ? { from: r[0], to: r[1] } : { from: 0, to: 0 };
    },
    renameKey(pair, newKey) {
      const r = (pair.key as YamlNode).range!;
      return [{ from: r[0], to: r[1], insert: newKey }];
    },
    replaceNode(node, insert) {
      const r = (node as YamlNode).range!;
      return [{ from: r[0], to: r[1], insert }];
    },
    setScalar(node, value) {
      const n = node as Scalar;
      const r = n.range!;
      let insert: string;
      if (n.type === Scalar.QUOTE_SINGLE && !value.includes('\n')) insert = `'${value.replace(/'/g, "''")}'`;
      else if (n.type === Scalar.PLAIN && isPlainSafe(value)) insert = value;
      else insert = JSON.stringify(value);
      if ((n.type === Scalar.BLOCK_LITERAL || n.type === Scalar.BLOCK_FOLDED) && text[r[1] - 1] === '\n')
        insert += '\n';
      return [{ from: r[0], to: r[1], insert }];
    },
    insertKey(map, key, valueText) {
      if (map.flow || map.items.length === 0) return undefined;
      const first = map.items[0] as Pair<YamlNode, YamlNode | null>;
      const keyStart = first.key.range![0];
      const indent = keyStart - lines.lineStart(keyStart);
      const end = first.value?.range ? first.value.range[1] : first.key.range![1];
      const at = text[end - 1] === '\n' ? end : lines.nextLineStart(end);
      const prefix = at === text.length && !text.endsWith('\n') ? '\n' : '';
      return [{ from: at, to: at, insert: `${prefix}${' '.repeat(indent)}${key}: ${valueText}\n` }];
    },
    insertInSection(section, key, valueText) {
      if (!root || root.flow) return undefined;
      const pair = editor.pair(root, section);
      if (!pair) {
        const first = root.items[0] as Pair<YamlNode, YamlNode | null> | undefined;
        const at = first ? lines.lineStart(first.key.range![0]) : text.length;
        return [{ from: at, to: at, insert: `${section}:\n  ${key}: ${valueText}\n` }];
      }
      if (isMap(pair.value)) return editor.insertKey(pair.value as YAMLMap, key, valueText);
      if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) {
        const keyStart = pair.key.range![0];
        const indent = keyStart - lines.lineStart(keyStart);
        const at = lines.nextLineStart(pair.key.range![1]);
        const prefix = at === text.length && !text.endsWith('\n') ? '\n' : '';
        return [{ from: at, to: at, insert: `${prefix}${' '.repeat(indent + 2)}${key}: ${valueText}\n` }];
      }
      return undefined;
    },
  };
  return editor;
}

function isPlainSafe(v: string): boolean {
  return (
    v.length > 0 &&
    !/^[\s\-?:,\[\]{}#&*!|>'"%@`]/.test(v) &&
    !/[\n#]|: |:$|\s$/.test(v) &&
    !/^(true|false|null|yes|no|on|off|~|[-+.\d].*)$/i.test(v)
  );
}

export type { TextEdit };
