/**
 * Inline SVG charts for the self-contained HTML reports (migrate, upgrade run): no script, no external asset.
 * Each drawn mark carries `data-point="<name>"`, which the headless-browser tests count.
 */

export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export const STATUS_COLORS: Record<string, string> = {
  done: '#2f9e44',
  failed: '#e03131',
  running: '#1c7ed6',
  'rolled-back': '#f08c00',
  pending: '#adb5bd',
};

/** The CSS the charts' classes use (lbl, val, ax, empty). */
export const SVG_CSS =
  'svg .lbl{font-size:12px;fill:#212529}svg .val{font-size:12px;fill:#495057}svg .ax{font-size:10px;fill:#868e96}.empty{color:#868e96}';

export interface TimelineRow {
  label: string;
  status: string;
  startedAt?: string;
  finishedAt?: string;
  title: string;
}

const svgOpen = (aria: string, W: number, H: number) =>
  `<svg role="img" aria-label="${esc(aria)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`;

/** One bar per row that started, on a shared time axis; a row not started keeps its label. */
export function timelineSvg(rows: TimelineRow[], o: { now: number; aria: string; empty: string }): string {
  const started = rows.filter((s) => s.startedAt);
  if (!started.length) return `<p class="empty">${esc(o.empty)}</p>`;
  const t0 = Math.min(...started.map((s) => Date.parse(s.startedAt!)));
  const t1 = Math.max(t0 + 1000, ...started.map((s) => (s.finishedAt ? Date.parse(s.finishedAt) : o.now)));
  const W = 760,
    left = 210,
    rowH = 22,
    H = rows.length * rowH + 40;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (W - left - 20);
  const marks = rows.map((s, i) => {
    const y = 10 + i * rowH;
    const label = `<text x="4" y="${y + 14}" class="lbl">${esc(s.label)}</text>`;
    if (!s.startedAt) return label;
    const a = x(Date.parse(s.startedAt));
    const b = Math.max(a + 3, x(s.finishedAt ? Date.parse(s.finishedAt) : o.now));
    return `${label}<rect data-point="timeline" x="${a.toFixed(1)}" y="${y + 3}" width="${(b - a).toFixed(1)}" height="${rowH - 8}" fill="${STATUS_COLORS[s.status] ?? '#868e96'}"><title>${esc(s.title)}</title></rect>`;
  });
  const axis = `<line x1="${left}" y1="${H - 25}" x2="${W - 20}" y2="${H - 25}" stroke="#495057"/><text x="${left}" y="${H - 8}" class="ax">${esc(new Date(t0).toISOString())}</text><text x="${W - 20}" y="${H - 8}" text-anchor="end" class="ax">${esc(new Date(t1).toISOString())}</text>`;
  return `${svgOpen(o.aria, W, H)}${marks.join('')}${axis}</svg>`;
}

export interface PassFailRow {
  passed: boolean;
  label: string;
  value: string;
}

/** Each row a dot, green when it held, red when it did not, with its figure on the right. */
export function passFailSvg(rows: PassFailRow[], o: { aria: string; empty: string; point?: string }): string {
  if (!rows.length) return `<p class="empty">${esc(o.empty)}</p>`;
  const W = 760,
    rowH = 22,
    H = rows.length * rowH + 14;
  const marks = rows.map((g, i) => {
    const y = 8 + i * rowH;
    return (
      `<circle data-point="${o.point ?? 'gate'}" cx="12" cy="${y + 8}" r="6" fill="${g.passed ? STATUS_COLORS.done : STATUS_COLORS.failed}"><title>${esc(g.passed ? 'passed' : 'failed')}</title></circle>` +
      `<text x="26" y="${y + 12}" class="lbl">${esc(g.label)}</text>` +
      `<text x="${W - 10}" y="${y + 12}" text-anchor="end" class="val">${esc(g.value)}</text>`
    );
  });
  return `${svgOpen(o.aria, W, H)}${marks.join('')}</svg>`;
}

/** A line through (x, y) points with a dot at each, axes from 0 to the largest x and y. */
export function lineChartSvg(
  points: Array<{ x: number; y: number; title: string }>,
  o: { aria: string; empty: string; point: string; xLabel: string; yLabel: string },
): string {
  if (!points.length) return `<p class="empty">${esc(o.empty)}</p>`;
  const W = 760,
    H = 240,
    left = 60,
    bottom = 40,
    top = 12,
    right = 20;
  const xMax = Math.max(1e-9, ...points.map((p) => p.x));
  const yMax = Math.max(1e-9, ...points.map((p) => p.y));
  const x = (v: number) => left + (v / xMax) * (W - left - right);
  const y = (v: number) => H - bottom - (v / yMax) * (H - bottom - top);
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
  const dots = points.map(
    (p) =>
      `<circle data-point="${o.point}" cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3" fill="#1c7ed6"><title>${esc(p.title)}</title></circle>`,
  );
  const axes =
    `<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#495057"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="#495057"/>` +
    `<text x="${left}" y="${H - bottom + 14}" class="ax">0</text>` +
    `<text x="${W - right}" y="${H - bottom + 14}" text-anchor="end" class="ax">${esc(fmtNum(xMax))}</text>` +
    `<text x="${(left + W - right) / 2}" y="${H - 6}" text-anchor="middle" class="ax">${esc(o.xLabel)}</text>` +
    `<text x="${left - 6}" y="${top + 10}" text-anchor="end" class="ax">${esc(fmtNum(yMax))}</text>` +
    `<text x="${left - 6}" y="${H - bottom}" text-anchor="end" class="ax">0</text>` +
    `<text x="4" y="${(top + H - bottom) / 2}" class="ax">${esc(o.yLabel)}</text>`;
  return `${svgOpen(o.aria, W, H)}<path d="${path}" fill="none" stroke="#1c7ed6" stroke-width="2"/>${dots.join('')}${axes}</svg>`;
}

/** One horizontal bar per row, on a scale from 0 to the largest value (at least `minMax`). */
export function barsSvg(
  rows: Array<{ label: string; value: number; text: string; bad?: boolean }>,
  o: { aria: string; empty: string; point: string; minMax?: number },
): string {
  if (!rows.length) return `<p class="empty">${esc(o.empty)}</p>`;
  const W = 760,
    left = 260,
    rowH = 24,
    H = rows.length * rowH + 10;
  const max = Math.max(o.minMax ?? 1, ...rows.map((r) => r.value));
  const marks = rows.map((r, i) => {
    const yy = 5 + i * rowH;
    const w = Math.max(1, (r.value / max) * (W - left - 250));
    return (
      `<text x="4" y="${yy + 15}" class="lbl">${esc(r.label)}</text>` +
      `<rect data-point="${o.point}" x="${left}" y="${yy + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${r.bad ? STATUS_COLORS.failed : STATUS_COLORS.done}"><title>${esc(r.text)}</title></rect>` +
      `<text x="${(left + w + 6).toFixed(1)}" y="${yy + 15}" class="val">${esc(r.text)}</text>`
    );
  });
  return `${svgOpen(o.aria, W, H)}${marks.join('')}</svg>`;
}

function fmtNum(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
