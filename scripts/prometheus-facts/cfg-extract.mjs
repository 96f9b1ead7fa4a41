import { execSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
const PROM = '/work/.mirror/prometheus+prometheus/repo';
const COMMON = '/work/.mirror/prometheus+common/repo';
const sh = (c) => execSync(c, { encoding: 'utf8', maxBuffer: 64 << 20 });

/** Reads files of the prometheus repo at a tag, or from a module dir. */
function source(ver) {
  const modDir = `/root/go/pkg/mod/github.com/prometheus/prometheus@v0.${ver.startsWith('3') ? 300 + Number(ver.split('.')[1]) : ver.split('.')[1]}.${ver.split('.')[2]}`;
  const tag = `v${ver}`;
  const hasTag = sh(`git -C ${PROM} tag -l ${tag}`).trim() === tag;
  const read = (p) => {
    if (hasTag) {
      try {
        return sh(`git -C ${PROM} show ${tag}:${p} 2>/dev/null`);
      } catch {
        return undefined;
      }
    }
    const f = `${modDir}/${p}`;
    return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
  };
  const ls = (dir) =>
    hasTag
      ? sh(`git -C ${PROM} ls-tree -r --name-only ${tag} ${dir}`).split('\n').filter(Boolean)
      : sh(`cd ${modDir} && find ${dir} -name '*.go'`).split('\n').filter(Boolean);
  return { read, ls, where: hasTag ? `P@${tag}` : `module ${modDir}` };
}
function commonSource(goMod) {
  const full = /github.com\/prometheus\/common v([\d.]+(?:-[0-9.]+-([0-9a-f]{12}))?)\s/.exec(goMod);
  if (full[2]) return { v: `${full[1]}`, read: (p) => sh(`git -C ${COMMON} show ${full[2]}:${p}`) };
  const v = full[1];
  const modCommon = `/root/go/pkg/mod/github.com/prometheus/common@v${v}`;
  if (sh(`git -C ${COMMON} tag -l v${v}`).trim() !== `v${v}` && existsSync(modCommon))
    return { v: `${v} (module cache)`, read: (p) => readFileSync(`${modCommon}/${p}`, 'utf8') };
  // a few go.mod versions have no tag in the mirror (v0.49.1): take the newest tag of that minor at or below it
  const tags = sh(`git -C ${COMMON} tag -l 'v${v.split('.').slice(0, 2).join('.')}.*'`)
    .split('\n')
    .filter(Boolean)
    .map((t) => t.slice(1))
    .filter((t) => Number(t.split('.')[2]) <= Number(v.split('.')[2]))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
  const use = tags.includes(v) ? v : tags[tags.length - 1];
  return { v: use === v ? v : `${v} (read at v${use})`, read: (p) => sh(`git -C ${COMMON} show v${use}:${p}`) };
}

function structs(text, pkg, aliases) {
  const out = {};
  const re = /\ntype (\w+) struct \{/g;
  let m;
  // named slices of a struct (type AlertmanagerConfigs []*AlertmanagerConfig) stand for their element
  for (const a of text.matchAll(/\ntype (\w+) \[\]\*?(\w+)\n/g))
    out[`${pkg}.${a[1]}`] = [{ key: '', inline: true, type: `${pkg}.${a[2]}` }];
  while ((m = re.exec(text))) {
    let depth = 1,
      i = re.lastIndex;
    while (depth && i < text.length) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
      i++;
    }
    const body = text.slice(re.lastIndex, i - 1);
    const fields = [];
    for (const line of body.split('\n')) {
      const tag = /yaml:"([^"]*)"/.exec(line);
      if (!tag) continue;
      const before = line.slice(0, line.indexOf('`')).trim().split(/\s+/);
      const [key, ...opts] = tag[1].split(',');
      if (key === '-') continue;
      const type = before.length >= 2 ? before[1] : before[0];
      fields.push({
        key,
        inline: opts.includes('inline'),
        type: qualify(type, pkg, aliases),
        list: /^\*?\[\]/.test(type),
      });
    }
    out[`${pkg}.${m[1]}`] = fields;
  }
  return out;
}
function qualify(type, pkg, aliases) {
  if (/^map\[/.test(type)) return null;
  const t = type.replace(/^[\*\[\]]+/, '');
  const dot = t.indexOf('.');
  if (dot < 0) return /^[A-Z]/.test(t) ? `${pkg}.${t}` : null;
  const q = t.slice(0, dot);
  return aliases[q] ? `${aliases[q]}.${t.slice(dot + 1)}` : null;
}

export function extract(ver) {
  const s = source(ver);
  const goMod = s.read('go.mod');
  const common = commonSource(goMod);
  const all = {};
  const promAliases = {
    config: 'common',
    relabel: 'relabel',
    azuread: 'azuread',
    googleiam: 'googleiam',
    discovery: 'discovery',
  };
  Object.assign(all, structs(s.read('config/config.go'), 'prom', promAliases));
  Object.assign(all, structs(s.read('model/relabel/relabel.go'), 'relabel', {}));
  const az = s.read('storage/remote/azuread/azuread.go');
  if (az) Object.assign(all, structs(az, 'azuread', { config: 'common' }));
  const gi = s.read('storage/remote/googleiam/googleiam.go');
  if (gi) Object.assign(all, structs(gi, 'googleiam', {}));
  Object.assign(all, structs(common.read('config/http_config.go'), 'common', {}));
  // service discovery: `func (*SDConfig) Name() string { return "x" }` per package
  const sd = new Set(['static']);
  for (const f of s.ls('discovery').filter((p) => p.endsWith('.go') && !p.endsWith('_test.go'))) {
    const t = s.read(f) ?? '';
    for (const m of t.matchAll(/\) Name\(\) string \{\s*return "([a-z0-9_]+)"/g)) sd.add(m[1]);
  }
  sd.delete('mock'); // test helpers
  return { structs: all, sd: [...sd].sort(), common: common.v, where: s.where };
}

/** Flattens a struct's keys (inline fields expanded) as key -> child struct id. */
export function keysOf(structsMap, id, seen = new Set()) {
  const out = {};
  for (const f of structsMap[id] ?? []) {
    if (f.inline) {
      if (f.type && !seen.has(f.type)) Object.assign(out, keysOf(structsMap, f.type, new Set([...seen, f.type])));
      continue;
    }
    const named =
      f.type && structsMap[f.type]?.length === 1 && structsMap[f.type][0].key === ''
        ? structsMap[f.type][0].type
        : undefined;
    out[f.key] = f.type && structsMap[f.type] ? { type: named ?? f.type, list: f.list || Boolean(named) } : null;
  }
  return out;
}
