import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'undici';

/** Headless Chromium (Debian's chromium-headless-shell or chromium) driven over the DevTools protocol. */
export const CHROMIUM = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));

export interface PageLoad {
  /** Console errors, uncaught exceptions and failed loads the page produced. */
  errors: string[];
  values: Record<string, unknown>;
  screenshot: Buffer;
}

/** Loads `url`, evaluates each expression of `evaluate`, takes a screenshot; closes the browser however it ends. */
export async function loadPage(url: string, profileDir: string, evaluate: Record<string, string>): Promise<PageLoad> {
  if (!CHROMIUM) throw new Error('no chromium');
  const proc: ChildProcess = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0', `--user-data-dir=${join(profileDir, 'chromium-profile')}`, '--window-size=1024,1400', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  try {
    const browserWs = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${buf.slice(-500)}`)), 30_000);
      proc.stderr!.on('data', (d) => {
        buf += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      proc.on('exit', (code) => reject(new Error(`chromium exited ${code}: ${buf.slice(-500)}`)));
    });
    const port = new URL(browserWs).port;
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as Array<{ type: string; webSocketDebuggerUrl: string }>;
    const page = targets.find((t) => t.type === 'page');
    if (!page) throw new Error('no page target');
    const ws = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('websocket error')));
    });
    let nextId = 1;
    const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
    const errors: string[] = [];
    let loaded: () => void = () => {};
    const loadedP = new Promise<void>((r) => (loaded = r));
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: any };
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
        return;
      }
      if (msg.method === 'Runtime.consoleAPICalled' && (msg.params.type === 'error' || msg.params.type === 'assert')) errors.push(`console.${msg.params.type}: ${JSON.stringify(msg.params.args)}`);
      if (msg.method === 'Runtime.exceptionThrown') errors.push(`exception: ${JSON.stringify(msg.params.exceptionDetails)}`);
      if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error') errors.push(`log: ${msg.params.entry.text} ${msg.params.entry.url ?? ''}`);
      if (msg.method === 'Network.loadingFailed') errors.push(`load failed: ${msg.params.errorText}`);
      if (msg.method === 'Page.loadEventFired') loaded();
    });
    const send = (method: string, params: Record<string, unknown> = {}) => new Promise<any>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
    await send('Page.enable');
    await send('Runtime.enable');
    await send('Log.enable');
    await send('Network.enable');
    await send('Page.navigate', { url });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([loadedP, new Promise((_r, rej) => (timer = setTimeout(() => rej(new Error('page did not load')), 30_000)))]).finally(() => clearTimeout(timer));
    await new Promise((r) => setTimeout(r, 300));
    const values: Record<string, unknown> = {};
    for (const [k, expr] of Object.entries(evaluate)) {
      const r = await send('Runtime.evaluate', { expression: expr, returnByValue: true });
      values[k] = r.result.value;
    }
    const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    ws.close();
    return { errors, values, screenshot: Buffer.from(shot.data as string, 'base64') };
  } finally {
    // its own process group: the browser's helpers (and a wrapper script's child) go with it
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      proc.kill('SIGKILL');
    }
    proc.stderr?.destroy();
  }
}
