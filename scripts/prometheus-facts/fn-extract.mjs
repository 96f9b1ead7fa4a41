import { execSync } from 'node:child_process';
const repo = '/work/.mirror/prometheus+prometheus/repo';
const tags = [];
for (let m = 42; m <= 55; m++) tags.push(`v2.${m}.0`);
for (let m = 0; m <= 14; m++) tags.push(`v3.${m}.0`);
function parse(src) {
  const out = {};
  const body = src.slice(src.indexOf('var Functions = map[string]*Function{'));
  const re = /\n\t"([a-z_0-9]+)": \{([\s\S]*?)\n\t\},/g;
  let m;
  while ((m = re.exec(body))) {
    const b = m[2];
    const args = (/ArgTypes:\s*\[\]ValueType\{([^}]*)\}/.exec(b)?.[1] ?? '')
      .split(',')
      .map((s) => s.trim().replace('ValueType', ''))
      .filter(Boolean)
      .map((s) => ({ Vector: 'v', Matrix: 'm', Scalar: 's', String: 'str' })[s] ?? s);
    const variadic = Number(/Variadic:\s*(-?\d+)/.exec(b)?.[1] ?? 0);
    const ret = /ReturnType:\s*ValueType(\w+)/.exec(b)?.[1];
    out[m[1]] = {
      args,
      variadic,
      ret: { Vector: 'v', Matrix: 'm', Scalar: 's', String: 'str' }[ret],
      exp: /Experimental:\s*true/.test(b),
    };
  }
  return out;
}
const per = {};
for (const t of tags)
  per[t] = parse(execSync(`git -C ${repo} show ${t}:promql/parser/functions.go`, { encoding: 'utf8' }));
import { readFileSync } from 'node:fs';
per['v3.16.0'] = parse(
  readFileSync('/root/go/pkg/mod/github.com/prometheus/prometheus@v0.316.0/promql/parser/functions.go', 'utf8'),
);
const all = [...new Set(Object.values(per).flatMap((x) => Object.keys(x)))].sort();
const keys = Object.keys(per);
for (const n of all) {
  const present = keys.filter((t) => per[t][n]);
  const since = present[0] === keys[0] ? undefined : present[0];
  const removed = keys.find((t, i) => i > keys.indexOf(present[0]) && !per[t][n]);
  const expT = present.filter((t) => per[t][n].exp);
  const last = per[present[present.length - 1]][n];
  const sigs = [...new Set(present.map((t) => JSON.stringify([per[t][n].args, per[t][n].variadic, per[t][n].ret])))];
  console.log(
    JSON.stringify({
      n,
      since,
      removed,
      exp: expT.length ? [expT[0], expT[expT.length - 1]] : undefined,
      sig: [last.args, last.variadic, last.ret],
      sigs:
        sigs.length > 1
          ? sigs.map(
              (s) =>
                s +
                '@' +
                present.find((t) => JSON.stringify([per[t][n].args, per[t][n].variadic, per[t][n].ret]) === s),
            )
          : undefined,
    }),
  );
}
