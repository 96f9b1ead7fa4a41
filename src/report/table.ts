/** Small renderers shared by every command's text and Markdown output. */
export function textTable(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function mdTable(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const head = `| ${headers.map(mdEscape).join(' | ')} |`;
  const sep = `| ${headers.map(() => '---').join(' | ')} |`;
  const body = rows.map((r) => `| ${r.map((c) => mdEscape(c === undefined ? '' : String(c))).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

export function section(title: string, body: string): string {
  return `${title}\n${'='.repeat(title.length)}\n${body}\n`;
}
