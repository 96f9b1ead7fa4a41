import { execSync } from 'node:child_process';
const lines = execSync('node scripts/prometheus-facts/fn-extract.mjs', { encoding: 'utf8' })
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const T = { v: 'vector', m: 'matrix', s: 'scalar', str: 'string' };
const next = (t) => {
  if (t === 'v3.14.0') return '3.16.0';
  const [a, b] = t.slice(1).split('.').map(Number);
  return a === 2 && b === 55 ? '3.0.0' : `${a}.${b + 1}.0`;
};
const out = [];
for (const f of lines) {
  const parts = [`name: '${f.n}'`, `args: [${f.sig[0].map((a) => `'${T[a]}'`).join(', ')}]`];
  if (f.sig[1]) parts.push(`variadic: ${f.sig[1]}`);
  parts.push(`returns: '${T[f.sig[2]]}'`);
  if (f.since) parts.push(`since: '${f.since.slice(1)}'`);
  if (f.removed) parts.push(`removedIn: '${f.removed.slice(1)}'`);
  if (f.exp) parts.push(`experimental: '>=${f.exp[0].slice(1)}${f.exp[1] === 'v3.16.0' ? '' : ` <${next(f.exp[1])}`}'`);
  out.push(`  { ${parts.join(', ')} },`);
}
console.log(out.join('\n'));
