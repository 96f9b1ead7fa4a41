import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StackshiftError } from '../errors/index.js';
import { log } from '../log/index.js';
import { consistencySvg, gatesSvg, phaseTimelineSvg } from '../migrate/index.js';
import type { ListenAddress } from './listen.js';
import { StatusMetrics } from './metrics.js';
import { renderStatusPage } from './page.js';
import { StateReader, type LiveStatus, type PhaseNames, type Snapshot } from './reader.js';

export interface StatusServerOptions {
  statePath: string;
  listen: ListenAddress;
  /** How often the state's data_version is asked (a pragma: cheap). */
  pollMs?: number;
  /** A running step's bar and ETA move with the clock: the state is drawn again this often even without a commit. */
  redrawMs?: number;
  phaseNames?: PhaseNames;
}

export const SERVE_DEFAULTS = { pollMs: 250, redrawMs: 5_000, keepAliveMs: 15_000 };

/** What one `state` message carries: the live state and the charts drawn by migrate's report code. */
export interface StateMessage {
  status: LiveStatus;
  charts: { timeline: string; gates: string; consistency: string };
}

const NOT_STARTED = '<p class="empty">No step has started yet.</p>';

function charts(s: LiveStatus, now: number): StateMessage['charts'] {
  const r = s.report;
  if (!r) return { timeline: NOT_STARTED, gates: NOT_STARTED, consistency: NOT_STARTED };
  return { timeline: phaseTimelineSvg(r, now), gates: gatesSvg(r), consistency: consistencySvg(r) };
}

/** A loopback server answers only to loopback names: a web page elsewhere cannot reach it by DNS rebinding. */
function hostAllowed(req: IncomingMessage, listen: ListenAddress): boolean {
  if (!listen.loopback) return true;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * `migrate serve`: the live page, its event stream, the state as JSON and the tool's /metrics, all from the
 * state file opened read-only. It takes no lease and writes nothing, so a `migrate run` is never held up by
 * it and killing it at any moment leaves the state as the run wrote it.
 */
export class StatusServer {
  private readonly reader: StateReader;
  private readonly metrics: StatusMetrics;
  private readonly streams = new Set<ServerResponse>();
  private server?: Server;
  private poll?: NodeJS.Timeout;
  private keepAlive?: NodeJS.Timeout;
  private snapshot: Snapshot;
  private message = '';
  private messageKey = '';
  private drawnAt = 0;
  private seq = 0;
  private lastError = '';

  constructor(private readonly o: StatusServerOptions) {
    this.reader = new StateReader(o.statePath, o.phaseNames);
    // a file that is there but not a migration's state is refused before anything listens
    this.snapshot = this.reader.read();
    this.metrics = new StatusMetrics(() => this.snapshot);
    this.draw(Date.now());
  }

  /** The state as the page shows it now. */
  get status(): LiveStatus {
    return this.snapshot.status;
  }

  private draw(now: number): boolean {
    const status = this.snapshot.status;
    const msg: StateMessage = { status, charts: charts(status, now) };
    const key = JSON.stringify({ ...msg, status: { ...status, generatedAt: '' } });
    this.drawnAt = now;
    if (key === this.messageKey) return false;
    this.messageKey = key;
    this.message = JSON.stringify(msg);
    return true;
  }

  /** Reads the state again when a file committed (or the clock moved a running step) and pushes what changed. */
  tick(now = Date.now()): void {
    try {
      const committed = this.reader.changed();
      if (!committed && now - this.drawnAt < (this.o.redrawMs ?? SERVE_DEFAULTS.redrawMs)) return;
      if (committed) this.snapshot = this.reader.read(now);
      this.lastError = '';
      if (this.draw(now)) this.broadcast();
    } catch (e) {
      // a busy or replaced file: keep serving the last state, say so once, try again at the next poll
      const msg = (e as Error).message;
      if (msg !== this.lastError) log.warn(`reading ${this.o.statePath}: ${msg}`);
      this.lastError = msg;
    }
  }

  private frame(): string {
    return `id: ${this.seq}\nevent: state\ndata: ${this.message}\n\n`;
  }

  private broadcast(): void {
    this.seq++;
    const f = this.frame();
    for (const res of this.streams) res.write(f);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!hostAllowed(req, this.o.listen)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden: unexpected Host header\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET only\n');
      return;
    }
    const known = ['/', '/events', '/api/state', '/metrics'].includes(path);
    this.metrics.request(known ? path : 'other');
    if (path === '/') {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(renderStatusPage());
    } else if (path === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`retry: 2000\n\n${this.frame()}`);
      this.streams.add(res);
      this.metrics.streams(this.streams.size);
      req.on('close', () => {
        this.streams.delete(res);
        this.metrics.streams(this.streams.size);
      });
    } else if (path === '/api/state') {
      this.tick();
      res
        .writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
        .end(JSON.stringify(this.snapshot.status, null, 2) + '\n');
    } else if (path === '/metrics') {
      this.tick();
      this.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics: ${e.message}\n`),
      );
    } else {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('not found: / (page), /events, /api/state, /metrics\n');
    }
  }

  /** Listens; resolves with the page's URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new StackshiftError(
            'serve',
            `cannot listen on ${this.o.listen.host}:${this.o.listen.port}: ${e.code ?? e.message}`,
            {
              hint:
                e.code === 'EADDRINUSE'
                  ? 'another process has that port: pick another with --listen host:port (port 0: any free one)'
                  : 'check the address of --listen',
            },
          ),
        ),
      );
      server.listen(this.o.listen.port, this.o.listen.host, () => resolve());
    });
    this.poll = setInterval(() => this.tick(), this.o.pollMs ?? SERVE_DEFAULTS.pollMs);
    // a comment line keeps proxies and idle timeouts from closing a quiet stream
    this.keepAlive = setInterval(() => {
      for (const res of this.streams) res.write(': keep-alive\n\n');
    }, SERVE_DEFAULTS.keepAliveMs);
    const a = server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}/`;
  }

  async stop(): Promise<void> {
    clearInterval(this.poll);
    clearInterval(this.keepAlive);
    for (const res of this.streams) res.end();
    this.streams.clear();
    if (this.server) {
      const s = this.server;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
    this.reader.close();
  }
}
