import { useColor } from '../log/index.js';

/**
 * A progress line on stderr, drawn only when stderr is a TTY (CI logs and pipes get nothing but the
 * final summary). Rate and ETA are computed from a sliding window so a slow start does not skew them.
 */
export interface Progress {
  update(done: number, extra?: string): void;
  setTotal(total: number): void;
  finish(message?: string): void;
}

export function createProgress(
  label: string,
  total: number,
  unit = 'items',
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const enabled = Boolean(stream.isTTY) && process.env.STACKSHIFT_NO_PROGRESS === undefined;
  const color = useColor(stream);
  const started = Date.now();
  const window: Array<[number, number]> = [];
  let lastDraw = 0;
  let current = 0;
  let tot = total;

  function draw(extra?: string) {
    const now = Date.now();
    window.push([now, current]);
    while (window.length > 2 && now - window[0][0] > 10_000) window.shift();
    if (!enabled || now - lastDraw < 100) return;
    lastDraw = now;
    const [t0, d0] = window[0];
    const rate = now > t0 ? ((current - d0) * 1000) / (now - t0) : 0;
    const frac = tot > 0 ? Math.min(1, current / tot) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = (color ? '\x1b[32m' : '') + '#'.repeat(filled) + (color ? '\x1b[0m' : '') + '-'.repeat(width - filled);
    const eta = rate > 0 && tot > current ? formatDuration(((tot - current) / rate) * 1000) : '--';
    const line = `${label} [${bar}] ${(frac * 100).toFixed(1)}% ${formatCount(current)}/${formatCount(tot)} ${unit} ${formatCount(rate)}/s ETA ${eta}${extra ? ' ' + extra : ''}`;
    stream.write('\r\x1b[2K' + line);
  }

  return {
    update(done, extra) {
      current = done;
      draw(extra);
    },
    setTotal(t) {
      tot = t;
    },
    finish(message) {
      if (enabled) stream.write('\r\x1b[2K');
      if (message) stream.write(message + '\n');
      void started;
    },
  };
}

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e9) return (n / 1e9).toFixed(2) + 'G';
  if (a >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (a >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
