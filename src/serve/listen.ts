import { isIP } from 'node:net';
import { UsageError } from '../errors/index.js';

export interface ListenAddress {
  host: string;
  port: number;
  /** Loopback only (127.0.0.0/8, ::1, localhost): nobody else on the network can reach the page. */
  loopback: boolean;
}

export const DEFAULT_LISTEN = '127.0.0.1:0';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * `--listen`: `host:port`, `[v6]:port` or a bare port (loopback). An empty host (`:8080`) would mean every
 * interface, which an unauthenticated page must never get by accident: the address has to be written out.
 */
export function parseListen(text: string): ListenAddress {
  const value = text.trim();
  const hint = 'give host:port, e.g. 127.0.0.1:9466 (this machine only) or 0.0.0.0:9466 (every interface, no auth)';
  let host: string;
  let portText: string;
  if (/^\d+$/.test(value)) {
    host = '127.0.0.1';
    portText = value;
  } else {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:[\]]*):(\d+)$/.exec(value);
    if (!m) throw new UsageError(`--listen "${text}" is not host:port`, hint);
    host = m[1];
    portText = m[2];
    if (host === '')
      throw new UsageError(`--listen "${text}" names no address (it would listen on every interface)`, hint);
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--listen "${text}": port ${portText} is not in 0..65535`, hint);
  if (host !== 'localhost' && !isIP(host))
    throw new UsageError(`--listen "${text}": "${host}" is not an IP address or localhost`, hint);
  return { host, port, loopback: isLoopback(host) };
}
