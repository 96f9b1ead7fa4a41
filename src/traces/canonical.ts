import { idHex } from './ids.js';
import type { Attr, AttrValue } from './model.js';

/**
 * Canonical text of attribute values and lists: a type tag and a value, lists sorted by key, so that two
 * spellings of the same data are equal strings and any change in value or type is not. Doubles use JS's
 * shortest round-trip form (the same number prints the same); bytes are hex.
 */
export function valueText(v: AttrValue): string {
  switch (v.type) {
    case 'string':
      return `string ${JSON.stringify(v.value)}`;
    case 'bool':
      return `bool ${v.value}`;
    case 'int':
      return `int ${v.value}`;
    case 'double':
      return `double ${Object.is(v.value, -0) ? '-0' : String(v.value)}`;
    case 'bytes':
      return `bytes 0x${idHex(v.value)}`;
    case 'array':
      return `array [${v.values.map(valueText).join(', ')}]`;
    case 'kvlist':
      return `kvlist {${attrsText(v.values)}}`;
    default:
      return 'empty';
  }
}

export function sortedAttrs(list: Attr[]): Attr[] {
  return [...list].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : valueText(a.value).localeCompare(valueText(b.value)),
  );
}

export function attrsText(list: Attr[]): string {
  return sortedAttrs(list)
    .map((a) => `${JSON.stringify(a.key)}=${valueText(a.value)}`)
    .join(', ');
}

/**
 * The JSON text Jaeger's v1 model gives an array or map attribute (pdata Value.AsString): the model has no
 * collection type, so both become a string tag holding this.
 */
export function collectionAsJson(v: AttrValue): string | undefined {
  if (v.type !== 'array' && v.type !== 'kvlist') return undefined;
  return goJson(v);
}

/** Go's encoding/json of the value's AsRaw(): int64 digits kept whole, map keys sorted, bytes base64. */
function goJson(v: AttrValue): string {
  switch (v.type) {
    case 'string':
      return JSON.stringify(v.value);
    case 'bool':
      return String(v.value);
    case 'double':
      return Number.isFinite(v.value) ? String(v.value) : 'null';
    case 'int':
      return v.value.toString();
    case 'bytes':
      return JSON.stringify(Buffer.from(v.value).toString('base64'));
    case 'array':
      return `[${v.values.map(goJson).join(',')}]`;
    case 'kvlist':
      return `{${[...v.values]
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map((a) => `${JSON.stringify(a.key)}:${goJson(a.value)}`)
        .join(',')}}`;
    default:
      return 'null';
  }
}
