import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Snapshot } from './reader.js';

/** Seconds per backfill unit: a unit is one remote read and its batches of remote write, 50 ms to minutes. */
export const UNIT_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const STEP_STATUSES = ['pending', 'running', 'done', 'failed', 'rolled-back'] as const;

/**
 * The tool's own metrics in Prometheus' text format. Every figure is read from the state the runs commit
 * (the migration's steps, each backfill step's units) at scrape time, so a server started later, or restarted,
 * shows the same totals as one that watched the whole run. Names follow Prometheus' naming guide: the
 * `stackshift_` prefix, the unit in the name, `_total` for counters.
 */
export class StatusMetrics {
  readonly registry = new Registry();
  private readonly served: Counter<'path'>;
  private readonly clients: Gauge;

  constructor(snapshot: () => Snapshot) {
    const r = this.registry;
    const gauge = (name: string, help: string, labels: string[], set: (g: Gauge<string>, s: Snapshot) => void) =>
      new Gauge({
        name,
        help,
        labelNames: labels,
        registers: [r],
        collect() {
          this.reset();
          set(this, snapshot());
        },
      });
    // totals read back from the state: counters whose value is set from the committed sum at each scrape
    const total = (name: string, help: string, pick: (b: Snapshot['status']['backfill'][number]) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['step'],
        registers: [r],
        collect() {
          this.reset();
          for (const b of snapshot().status.backfill) this.inc({ step: b.step }, pick(b));
        },
      });
    gauge('stackshift_migrate_steps', 'Steps of the migration by status.', ['status'], (g, s) => {
      for (const st of STEP_STATUSES) g.set({ status: st }, s.status.steps.filter((x) => x.status === st).length);
    });
    gauge('stackshift_migrate_progress_ratio', 'Done steps over all steps, 0 to 1.', [], (g, s) =>
      g.set(s.status.progress.total ? s.status.progress.done / s.status.progress.total : 0),
    );
    gauge(
      'stackshift_migrate_eta_timestamp_seconds',
      'When the remaining steps are expected to be done (absent without an estimate).',
      [],
      (g, s) => {
        if (s.status.progress.etaAt) g.set(Date.parse(s.status.progress.etaAt) / 1000);
      },
    );
    gauge('stackshift_migrate_gates', 'Gates evaluated, by result.', ['result'], (g, s) => {
      const gates = s.status.report?.gates ?? [];
      g.set({ result: 'passed' }, gates.filter((x) => x.passed).length);
      g.set({ result: 'failed' }, gates.filter((x) => !x.passed).length);
    });
    gauge(
      'stackshift_migrate_runner_up',
      '1 while a migrate run holds the state (its process alive), else 0.',
      [],
      (g, s) => g.set(s.status.runner && s.status.runner.alive !== false ? 1 : 0),
    );
    gauge('stackshift_backfill_units', 'Backfill units of a step by status.', ['step', 'status'], (g, s) => {
      for (const b of s.status.backfill) {
        g.set({ step: b.step, status: 'done' }, b.unitsDone);
        g.set({ step: b.step, status: 'running' }, b.unitsRunning);
      }
    });
    gauge(
      'stackshift_backfill_coverage_ratio',
      'Share of the planned range that done units cover, 0 to 1.',
      ['step'],
      (g, s) => {
        for (const b of s.status.backfill) if (b.coverage !== undefined) g.set({ step: b.step }, b.coverage);
      },
    );
    total('stackshift_backfill_samples_copied_total', 'Samples copied by done backfill units.', (b) => b.samples);
    total(
      'stackshift_backfill_requests_total',
      'Remote-write requests sent by done backfill units.',
      (b) => b.requests,
    );
    total(
      'stackshift_backfill_retries_total',
      'Backfill unit attempts beyond the first (retries and redos).',
      (b) => b.retries,
    );
    total(
      'stackshift_backfill_rejected_requests_total',
      'Remote-write requests the target refused.',
      (b) => b.rejectedRequests,
    );
    total('stackshift_backfill_rejected_samples_total', 'Samples in refused requests.', (b) => b.rejectedSamples);
    new Histogram({
      name: 'stackshift_backfill_unit_duration_seconds',
      help: 'Time the last attempt of each done backfill unit took.',
      labelNames: ['step'],
      buckets: UNIT_SECONDS_BUCKETS,
      registers: [r],
      collect() {
        this.reset();
        for (const [step, seconds] of snapshot().unitSeconds) {
          const h = this.labels({ step });
          for (const v of seconds) h.observe(v);
        }
      },
    });
    this.served = new Counter({
      name: 'stackshift_serve_requests_total',
      help: 'HTTP requests the status server answered, by path.',
      labelNames: ['path'],
      registers: [r],
    });
    this.clients = new Gauge({
      name: 'stackshift_serve_event_streams',
      help: 'Open /events streams.',
      registers: [r],
    });
  }

  request(path: string): void {
    this.served.inc({ path });
  }

  streams(n: number): void {
    this.clients.set(n);
  }
}
