/** Small timing helpers shared by the benchmarks. */
export function timeIt<T>(fn: () => T, minMs = 300): { ms: number; iterations: number; result: T } {
  let result = fn(); // warm-up
  let iterations = 0;
  const t0 = performance.now();
  do {
    result = fn();
    iterations++;
  } while (performance.now() - t0 < minMs);
  return { ms: (performance.now() - t0) / iterations, iterations, result };
}

export function fmtRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${perSecond.toFixed(1)}/s`;
}

export function row(cells: Array<string | number>, widths: number[]): string {
  return cells.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join('  ');
}
