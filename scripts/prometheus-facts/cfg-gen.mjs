import { extract, keysOf } from './cfg-extract.mjs';
const versions = [];
for (let m = 42; m <= 55; m++) versions.push(`2.${m}.0`);
versions.splice(versions.indexOf('2.48.0') + 1, 0, '2.48.1');
versions.push('2.55.1');
for (let m = 0; m <= 14; m++) versions.push(`3.${m}.0`);
versions.splice(versions.indexOf('3.8.0') + 1, 0, '3.8.1');
const extra = process.argv.slice(2); // e.g. 3.16.0 from the module cache
versions.push(...extra);
const per = {};
for (const v of versions) {
  const e = extract(v);
  const sections = {};
  const visit = (id) => {
    if (sections[id]) return;
    const keys = keysOf(e.structs, id);
    const kids = {};
    for (const [k, child] of Object.entries(keys)) {
      const childKeys = child ? keysOf(e.structs, child.type) : {};
      kids[k] = child && Object.keys(childKeys).length ? `${child.list ? '[]' : ''}${child.type}` : null;
    }
    if (id === 'prom.ScrapeConfig' || id === 'prom.AlertmanagerConfig')
      for (const sd of e.sd)
        kids[sd === 'static' ? 'static_configs' : `${sd}_sd_configs`] = sd === 'static' ? '[]targetgroup.Group' : null;
    sections[id] = kids;
    for (const c of Object.values(kids)) if (c && c !== '[]targetgroup.Group') visit(c.replace('[]', ''));
  };
  visit('prom.Config');
  sections['targetgroup.Group'] = { targets: null, labels: null };
  per[v] = { sections, common: e.common };
  process.stderr.write(`${v} common ${e.common}\n`);
}
// merge
const first = versions[0];
const ids = [...new Set(versions.flatMap((v) => Object.keys(per[v].sections)))];
const rows = [];
const idx = (v) => versions.indexOf(v);
for (const id of ids) {
  const keys = [...new Set(versions.flatMap((v) => Object.keys(per[v].sections[id] ?? {})))];
  const parts = [];
  const children = {};
  for (const k of keys) {
    const present = versions.filter((v) => per[v].sections[id] && k in per[v].sections[id]);
    const since = present[0] === first ? '' : present[0];
    const last = present[present.length - 1];
    const removed = last === versions[versions.length - 1] ? '' : versions[idx(last) + 1];
    // gaps would need more than since/removed
    const gap = versions.slice(idx(present[0]), idx(last) + 1).some((v) => !present.includes(v));
    if (gap) process.stderr.write(`GAP ${id}.${k}\n`);
    parts.push(since || removed ? `${k}@${since}${removed ? `-${removed}` : ''}` : k);
    const child = per[present[present.length - 1]].sections[id][k];
    if (child) children[k] = child;
  }
  const sinceSection = versions.find((v) => per[v].sections[id]);
  rows.push(
    `  '${id}': {${sinceSection !== first ? ` since: '${sinceSection}',` : ''}\n    keys: '${parts.join(' ')}',\n    children: ${JSON.stringify(children).replace(/"/g, "'").replace(/,/g, ', ').replace(/:/g, ': ')},\n  },`,
  );
}
console.log(rows.join('\n').replace(/'\n  '/g, "'\n  '"));
console.log('// versions: ' + versions.join(' '));
