import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { InputError, UsageError } from '../errors/index.js';

/** One entry of `GET /api/datasources` (only the fields the rewriter needs are typed). */
export interface GrafanaDatasource {
  uid: string;
  name: string;
  type: string;
  isDefault?: boolean;
  readOnly?: boolean;
  jsonData?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Built-in datasources that are never a reference to a real backend: Mixed (per-target datasources),
 * the Grafana built-in (annotations, testdata), Dashboard (reuses another panel's query) and server-side
 * expressions. Sources: MixedDataSource.ts, grafana-runtime GRAFANA_DATASOURCE_NAME, dashboard
 * datasource constants.ts, v36.go.
 */
export const SPECIAL_DATASOURCE_UIDS: ReadonlySet<string> = new Set([
  '-- Mixed --',
  '-- Grafana --',
  'grafana',
  '-- Dashboard --',
  '__expr__',
]);
/** Plugin types only the built-ins use: `datasource` (Mixed, Dashboard, Grafana), `grafana`, `__expr__`. */
const SPECIAL_TYPES: ReadonlySet<string> = new Set(['datasource', 'grafana', '__expr__']);

export function isSpecialDatasource(uidOrName: string, type?: unknown): boolean {
  return SPECIAL_DATASOURCE_UIDS.has(uidOrName) || (typeof type === 'string' && SPECIAL_TYPES.has(type));
}

/**
 * Grafana's template-variable syntax (public/app/features/variables/utils.ts, variableRegex), anchored:
 * a datasource field that is exactly one variable reference selects its datasource through that variable.
 */
const WHOLE_VARIABLE = /^(?:\$(\w+)|\[\[([\s\S]+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\})$/;

export interface VariableRef {
  name: string;
  /** True for the `${NAME}` form, the only one an import placeholder (`__inputs`) is substituted in. */
  braced: boolean;
}

export function parseVariableRef(s: string): VariableRef | undefined {
  const m = WHOLE_VARIABLE.exec(s);
  if (!m) return undefined;
  if (m[1] !== undefined) return { name: m[1], braced: false };
  if (m[2] !== undefined) return { name: m[2], braced: false };
  return { name: m[4], braced: true };
}

/**
 * The datasource list of one Grafana, with Grafana's own lookup order: a string reference is looked up by
 * name first, then by uid (datasource_utils.go, Lookup / MigrateDatasourceNameToRef); the isDefault entry
 * is what a null reference means.
 */
export class DatasourceCatalog {
  readonly list: readonly GrafanaDatasource[];
  readonly default?: GrafanaDatasource;
  private readonly byName = new Map<string, GrafanaDatasource>();
  private readonly byUid = new Map<string, GrafanaDatasource>();

  constructor(list: GrafanaDatasource[]) {
    this.list = list;
    for (const ds of list) {
      if (!this.byName.has(ds.name)) this.byName.set(ds.name, ds);
      if (!this.byUid.has(ds.uid)) this.byUid.set(ds.uid, ds);
    }
    this.default = list.find((d) => d.isDefault === true);
  }

  /** String references: name first, then uid. */
  lookupString(s: string): { ds: GrafanaDatasource; by: 'name' | 'uid' } | undefined {
    const n = this.byName.get(s);
    if (n) return { ds: n, by: 'name' };
    const u = this.byUid.get(s);
    return u ? { ds: u, by: 'uid' } : undefined;
  }

  /** Object references: uid first, then name (`{uid:"<name>"}` is what unresolved migrations left behind). */
  lookupUid(s: string): { ds: GrafanaDatasource; by: 'name' | 'uid' } | undefined {
    const u = this.byUid.get(s);
    if (u) return { ds: u, by: 'uid' };
    const n = this.byName.get(s);
    return n ? { ds: n, by: 'name' } : undefined;
  }

  /** Resolves a --from/--to/--tempo flag value (a name or a uid) or throws a usage error listing the choices. */
  select(value: string, flag: string, where: string): GrafanaDatasource {
    const hit = this.lookupString(value);
    if (hit) return hit.ds;
    const ci = this.list.filter(
      (d) => d.name.toLowerCase() === value.toLowerCase() || d.uid.toLowerCase() === value.toLowerCase(),
    );
    const known = this.list.map((d) => `${d.name} (uid ${d.uid}, ${d.type})`).join(', ') || 'none';
    const hint =
      ci.length === 1
        ? `did you mean "${ci[0].name}"? Names and uids are case-sensitive`
        : `known datasources: ${known}`;
    throw new UsageError(`${flag} "${value}" is not a datasource in ${where}`, hint);
  }
}

/**
 * Reads what `GET /api/datasources` returns, saved to a file (files mode). Every entry needs uid, name and
 * type; errors name the file and the entry.
 */
export function parseDatasourceList(text: string, file: string): GrafanaDatasource[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw jsonSyntaxError(
      e,
      text,
      file,
      'save the output of GET /api/datasources (curl -H "Authorization: Bearer $TOKEN" $GRAFANA/api/datasources > datasources.json)',
    );
  }
  if (!Array.isArray(parsed)) {
    throw new InputError(
      'expected a JSON array of datasources, as GET /api/datasources returns',
      { file },
      'save the output of GET /api/datasources to this file',
    );
  }
  parsed.forEach((d, i) => {
    for (const key of ['uid', 'name', 'type'] as const) {
      if (
        !d ||
        typeof d !== 'object' ||
        typeof (d as Record<string, unknown>)[key] !== 'string' ||
        (d as Record<string, string>)[key] === ''
      ) {
        throw new InputError(
          `datasource #${i + 1} has no "${key}"`,
          { file, key: `[${i}].${key}` },
          'each entry needs uid, name and type, as GET /api/datasources returns them',
        );
      }
    }
  });
  return parsed as GrafanaDatasource[];
}

const JSON_ERRORS: Record<string, string> = {
  InvalidSymbol: 'unexpected text',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name (a trailing comma?)',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected "," (a missing comma?)',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: 'unexpected content after the end of the JSON',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string',
};

/**
 * A JSON.parse failure as an InputError with line and column. V8 does not always say where (Node 20:
 * "Unexpected token 'o', ..."), so the position comes from a strict re-parse with jsonc-parser, which
 * reports the offset of the first error.
 */
export function jsonSyntaxError(
  e: unknown,
  text: string,
  file: string,
  hint = 'fix the JSON syntax at that position',
): InputError {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  let line: number | undefined;
  let column: number | undefined;
  let reason = ((e as Error).message ?? String(e)).replace(/\s+/g, ' ');
  if (first) {
    const before = text.slice(0, first.offset);
    line = before.split('\n').length;
    column = first.offset - before.lastIndexOf('\n');
    const code = printParseErrorCode(first.error);
    const near = text.slice(first.offset, first.offset + Math.min(first.length, 20));
    reason = `${JSON_ERRORS[code] ?? code}${near ? ` at "${near}"` : ''}`;
  }
  return new InputError(`invalid JSON: ${reason}`, { file, line, column }, hint);
}
