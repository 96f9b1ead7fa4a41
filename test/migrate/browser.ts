import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (no downloaded browser): /usr/bin/chromium when the full browser
 * is installed, else the chromium-headless-shell package that scripts/install-chromium.sh installs (its binary,
 * not the /usr/bin wrapper script, so that closing the browser ends the process playwright started).
 */
export const CHROMIUM = [
  '/usr/bin/chromium',
  '/usr/lib/chromium/chromium-headless-shell',
  '/usr/bin/chromium-headless-shell',
].find((p) => existsSync(p));

export interface PageLoad {
  /** Console errors and assertions, uncaught exceptions and failed requests the page produced. */
  errors: string[];
  values: Record<string, unknown>;
  screenshot: Buffer;
}

/**
 * Loads `url`, evaluates each expression of `evaluate` in the page, takes a full-page screenshot; closes the
 * browser however it ends. `_profileDir` is unused (playwright keeps its own temporary profile).
 */
export async function loadPage(url: string, _profileDir: string, evaluate: Record<string, string>): Promise<PageLoad> {
  if (!CHROMIUM)
    throw new Error('no chromium: apt-get install -y chromium-headless-shell (scripts/install-chromium.sh)');
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
    timeout: 60_000,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1024, height: 1400 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'assert') errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
    page.on('requestfailed', (r) => errors.push(`load failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    const res = await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    if (res && !res.ok()) errors.push(`load failed: ${url} status ${res.status()}`);
    // late errors (timers, deferred rendering) still count
    await page.waitForTimeout(300);
    const values: Record<string, unknown> = {};
    for (const [k, expr] of Object.entries(evaluate)) values[k] = await page.evaluate(expr);
    const screenshot = await page.screenshot({ fullPage: true, type: 'png' });
    return { errors, values, screenshot };
  } finally {
    await browser.close();
  }
}
