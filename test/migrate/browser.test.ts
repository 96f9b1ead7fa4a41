import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../harness/index.js';
import { CHROMIUM, loadPage } from './browser.js';

/* The browser check the migrate report test relies on: it must see what a broken page does, not only pass. */

const svg = (points: number) =>
  `<svg width="300" height="60">${Array.from({ length: points }, (_v, i) => `<circle data-point="timeline" cx="${10 + i * 20}" cy="30" r="5" fill="#2f9e44"/>`).join('')}</svg>`;
const html = (body: string, script = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>${body}${script}</body></html>`;

test(
  'headless Chromium: a clean page has no errors; console.error, an exception and a missing asset are reported',
  { timeout: 120_000 },
  async (t) => {
    assert.ok(CHROMIUM, 'chromium is needed (bash scripts/install-chromium.sh)');
    const dir = tempDir(t, 'stackshift-browser-');
    const evaluate = { points: 'document.querySelectorAll("[data-point=timeline]").length', title: 'document.title' };

    const clean = join(dir, 'clean.html');
    writeFileSync(clean, html(svg(4)));
    const ok = await loadPage(pathToFileURL(clean).href, dir, evaluate);
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(ok.values, { points: 4, title: 't' });
    assert.equal(ok.screenshot.subarray(1, 4).toString(), 'PNG');

    const broken = join(dir, 'broken.html');
    writeFileSync(
      broken,
      html(
        `${svg(2)}<img src="missing.png">`,
        '<script>console.error("chart data missing"); setTimeout(() => { throw new Error("late failure"); }, 50);</script>',
      ),
    );
    const bad = await loadPage(pathToFileURL(broken).href, dir, evaluate);
    assert.equal(bad.values.points, 2);
    assert.ok(
      bad.errors.some((e) => e === 'console.error: chart data missing'),
      bad.errors.join('\n'),
    );
    assert.ok(
      bad.errors.some((e) => /^exception: .*late failure/.test(e)),
      bad.errors.join('\n'),
    );
    assert.ok(
      bad.errors.some((e) => /missing\.png/.test(e)),
      bad.errors.join('\n'),
    );
  },
);
