import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mdEscape, mdTable } from '../report/index.js';
import { RULES, type LintRule } from '../compat/index.js';
import {
  INPUT_MISSING_RULE,
  INPUT_UNKNOWN_RULE,
  PARSE_ERROR_RULE,
  PROMTOOL_RULE,
  type Finding,
  type LintResult,
} from './engine.js';

const ALL_RULES: LintRule[] = [...RULES, PARSE_ERROR_RULE, INPUT_MISSING_RULE, INPUT_UNKNOWN_RULE, PROMTOOL_RULE];

function where(f: Finding, cwd: string): string {
  if (/^https?:/.test(f.file)) return f.file;
  const rel = relative(cwd, f.file) || f.file;
  return f.line ? `${rel}:${f.line}:${f.column}` : rel;
}

function summary(r: LintResult): string {
  const c = r.counts;
  return `${r.findings.length} finding(s) for ${r.from} -> ${r.to}${r.stage !== 'all' ? ` (stage ${r.stage})` : ''}: ${c.error} error, ${c.warning} warning, ${c.info} info; by phase: ${c.dual} dual (apply now), ${c.cutover} cutover (with the 3.x binary), ${c.advisory} advisory; ${c.fixable} with a fix. ${r.files.length} file(s), ${c.expressions} PromQL expression(s).`;
}

export function renderLintText(r: LintResult, cwd = process.cwd()): string {
  const lines: string[] = [];
  for (const f of r.findings) {
    lines.push(`${where(f, cwd)}  ${f.severity.padEnd(7)} ${f.ruleId} [${f.phase}]`);
    lines.push(`    ${f.message}`);
    if (f.context) lines.push(`    in ${f.context}`);
    if (f.fix)
      lines.push(
        `    fix (${f.phase}${f.fix.validFrom ? `, valid from ${f.fix.validFrom}` : ''}${f.fix.applies ? ', applied by --fix' : ''}): ${f.fix.description}`,
      );
    if (f.suggestion) lines.push(`    suggestion: ${f.suggestion.description}`);
  }
  const unknown = r.files.filter((f) => f.kinds.length === 1 && f.kinds[0] === 'unknown');
  if (unknown.length)
    lines.push(
      '',
      `not recognised as a Prometheus config, rule file, dashboard or flag source (skipped): ${unknown.map((f) => relative(cwd, f.file) || f.file).join(', ')}`,
    );
  lines.push('', summary(r));
  return lines.join('\n') + '\n';
}

export function renderLintMarkdown(r: LintResult, cwd = process.cwd()): string {
  const rows = r.findings.map((f) => [
    `\`${mdEscape(where(f, cwd))}\``,
    f.severity,
    f.phase,
    `\`${f.ruleId}\``,
    mdEscape(f.message) + (f.context ? `<br>in ${mdEscape(f.context)}` : ''),
    f.fix ? mdEscape(f.fix.description) : f.suggestion ? `suggestion: ${mdEscape(f.suggestion.description)}` : '',
  ]);
  return [
    `## Prometheus ${r.from} -> ${r.to} lint`,
    '',
    summary(r),
    '',
    rows.length ? mdTable(['Location', 'Severity', 'Phase', 'Rule', 'What changes', 'Fix'], rows) : 'No findings.',
    '',
  ].join('\n');
}

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

/** SARIF 2.1.0 (OASIS), as GitHub code scanning and other CI tools read it. */
export function renderLintSarif(r: LintResult, version: string, cwd = process.cwd()): unknown {
  const used = ALL_RULES.filter((rule) => r.findings.some((f) => f.ruleId === rule.id));
  const index = new Map(used.map((rule, i) => [rule.id, i]));
  const uri = (file: string) => (/^https?:/.test(file) ? file : relative(cwd, file).split('\\').join('/'));
  const local = (file: string) => !/^https?:/.test(file);
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'stackshift',
            semanticVersion: version,
            informationUri: 'https://prometheus.io/docs/prometheus/latest/migration/',
            rules: used.map((rule) => ({
              id: rule.id,
              name: rule.id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()),
              shortDescription: { text: rule.title },
              fullDescription: { text: rule.description },
              defaultConfiguration: { level: LEVEL[rule.severity] },
              properties: { phase: rule.phase, source: rule.source, versions: rule.versions },
            })),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: pathToFileURL(cwd.endsWith('/') ? cwd : `${cwd}/`).href } },
        results: r.findings.map((f) => {
          const artifactLocation = local(f.file) ? { uri: uri(f.file), uriBaseId: 'SRCROOT' } : { uri: f.file };
          const region = f.line
            ? {
                startLine: f.line,
                startColumn: f.column,
                endLine: f.endLine,
                endColumn: Math.max(f.endColumn, f.endLine === f.line ? f.column + 1 : 1),
              }
            : undefined;
          return {
            ruleId: f.ruleId,
            ruleIndex: index.get(f.ruleId),
            level: LEVEL[f.severity],
            message: { text: f.context ? `${f.message} (in ${f.context})` : f.message },
            locations: [{ physicalLocation: { artifactLocation, ...(region ? { region } : {}) } }],
            properties: {
              phase: f.phase,
              ...(f.fix ? { fix: f.fix.description, fixValidFrom: f.fix.validFrom } : {}),
              ...(f.suggestion ? { suggestion: f.suggestion.description } : {}),
            },
            ...(f.fix && local(f.file) && f.fix.edits.length
              ? {
                  fixes: [
                    {
                      description: { text: f.fix.description },
                      artifactChanges: [
                        {
                          artifactLocation,
                          replacements: f.fix.edits.map((e) => ({
                            deletedRegion: { charOffset: e.from, charLength: e.to - e.from },
                            insertedContent: { text: e.insert },
                          })),
                        },
                      ],
                    },
                  ],
                }
              : {}),
          };
        }),
      },
    ],
  };
}
