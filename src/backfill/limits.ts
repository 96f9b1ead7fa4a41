import { createHash } from 'node:crypto';
import { sleep } from '../http/index.js';

/** Token bucket in samples/s with debt: a request larger than one second's budget waits in proportion. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly rate: number) {
    this.tokens = rate;
  }

  /** Waits until `n` samples fit the rate; an aborted signal ends the wait (rejecting with its reason). */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    this.tokens -= n;
    if (this.tokens < 0) await sleep((-this.tokens / this.rate) * 1000, signal);
  }
}

/** Counting semaphore for requests in flight. */
export class Semaphore {
  private waiters: Array<() => void> = [];
  private used = 0;
  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.used--;
  }
}

export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * Shard of a metric name: the first 32 bits of its SHA-1, modulo N. Stable across processes and versions and
 * well spread even for names that differ only in the middle (FNV-1a's low bits were not).
 */
export function shardOf(name: string, count: number): number {
  return createHash('sha1').update(name).digest().readUInt32BE(0) % count;
}

/**
 * prom-migrator-style slab sizing: a group's next window after a unit of `unitMs` that held `samples`. Below half
 * of `unitSamples` it doubles (up to maxWindowMs), above twice it halves (down to minWindowMs), else it stays; a
 * unit narrower than the window (the range's tail) says nothing about density and leaves it as it is.
 */
export function adaptWindow(
  windowMs: number,
  unitMs: number,
  samples: number,
  o: { unitSamples: number; minWindowMs: number; maxWindowMs: number },
): number {
  if (unitMs < windowMs) return windowMs;
  if (samples < o.unitSamples / 2) return Math.min(o.maxWindowMs, windowMs * 2);
  if (samples > o.unitSamples * 2) return Math.max(o.minWindowMs, Math.floor(windowMs / 2));
  return windowMs;
}
