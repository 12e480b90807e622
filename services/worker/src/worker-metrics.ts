import type { EngineEvent, DumpProgress } from '@hlsdump/dump-engine';
import type { OriginRequestEvent, RetryEvent } from '@hlsdump/hls-client';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds behind the origin's live edge: LL-HLS sits under a segment, trouble shows past 30 s. */
const LAG_BUCKETS = [0.5, 1, 2, 4, 6, 10, 15, 30, 60, 120];

/**
 * A worker's Prometheus metrics (docs/api.md#operations): what its dumps write, the gaps they mark, how far they
 * lag, how the origin answers, and how many dumps it holds. Per process, never per dump: a dump id
 * as a label would grow the series without bound.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly files: Counter<'kind'>;
  private readonly bytes: Counter<'kind'>;
  private readonly segments: Counter;
  private readonly gaps: Counter;
  private readonly lag: Histogram;
  private readonly statuses: Counter<'status'>;
  private readonly originRequests: Counter<'outcome'>;
  private readonly originRetries: Counter;
  private readonly handoffs: Counter<'reason'>;
  // Each label value's series looked up once: a labelled inc hashes its labels each time.
  private readonly filesByKind = new Map<string, Counter.Internal>();
  private readonly bytesByKind = new Map<string, Counter.Internal>();
  private readonly requestsByOutcome = new Map<string, Counter.Internal>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({
      register: this.registry,
      prefix: 'hlsdump_worker_',
      // The event-loop delay histogram samples on a timer of this period, which wakes an idle
      // worker each time (at prom-client's default of 10 ms, 100 times a second: most of the CPU
      // an idle worker spent). Once a second still samples a busy loop's delays thousands of
      // times an hour, enough for its percentiles; a dump's own lag has its own histogram.
      eventLoopMonitoringPrecision: 1_000,
    });
    this.files = new Counter({
      name: 'hlsdump_files_written_total',
      help: 'Files written to dump outputs, by kind (segment, init, chunklist, master); every chunklist rewrite counts.',
      labelNames: ['kind'],
      registers,
    });
    this.bytes = new Counter({
      name: 'hlsdump_written_bytes_total',
      help: 'Bytes written to dump outputs, by kind of file.',
      labelNames: ['kind'],
      registers,
    });
    this.segments = new Counter({
      name: 'hlsdump_segments_written_total',
      help: 'Complete media segments written to dump outputs.',
      registers,
    });
    this.gaps = new Counter({
      name: 'hlsdump_gaps_total',
      help: 'Segments given up (gone from the origin window, or failing past the retries) and marked as a discontinuity.',
      registers,
    });
    this.lag = new Histogram({
      name: 'hlsdump_dump_lag_seconds',
      help: "The engine's lag of a rendition (media seconds the origin listed beyond the last segment written, as of its last playlist reload), observed at each chunklist update.",
      buckets: LAG_BUCKETS,
      registers,
    });
    this.statuses = new Counter({
      name: 'hlsdump_dump_status_changes_total',
      help: 'Dump status changes on this worker (Running counts every start and every resume).',
      labelNames: ['status'],
      registers,
    });
    this.originRequests = new Counter({
      name: 'hlsdump_origin_requests_total',
      help: 'Requests to origins, by outcome: the status class (2xx, 3xx, 4xx, 5xx) or timeout, network, aborted.',
      labelNames: ['outcome'],
      registers,
    });
    this.originRetries = new Counter({
      name: 'hlsdump_origin_retries_total',
      help: 'Origin requests retried after a backoff (5xx, network errors, timeouts, a 404 while a stream starts).',
      registers,
    });
    this.handoffs = new Counter({
      name: 'hlsdump_dump_handoffs_total',
      help: 'Dumps handed back to the queue with their checkpoint: shutdown (SIGTERM) or rebalance (over the fair share).',
      labelNames: ['reason'],
      registers,
    });
    // Every known label value from the start: a series that appears only on its first event
    // breaks rate() and alerts on it.
    for (const kind of ['segment', 'init', 'chunklist', 'master']) {
      this.files.inc({ kind }, 0);
      this.bytes.inc({ kind }, 0);
    }
    for (const status of ['Running', 'Completed', 'Error']) this.statuses.inc({ status }, 0);
    for (const outcome of ['2xx', '3xx', '4xx', '5xx', 'timeout', 'network', 'aborted'])
      this.originRequests.inc({ outcome }, 0);
    for (const reason of ['shutdown', 'rebalance']) this.handoffs.inc({ reason }, 0);
  }

  /** The gauges read at each scrape, once the worker runs. */
  watch(sources: { heldDumps: () => number; dumpCapacity: () => number }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'hlsdump_worker_dumps',
      help: 'Dumps this worker holds now (starting, running or ending).',
      registers,
      collect() {
        this.set(sources.heldDumps());
      },
    });
    new Gauge({
      name: 'hlsdump_worker_dump_capacity',
      help: 'Dumps this worker takes at most now (its concurrency, lowered to its fair share when balancing).',
      registers,
      collect() {
        this.set(sources.dumpCapacity());
      },
    });
  }

  /** Counts one dump's events; `progress` is read for the lag of the rendition just updated. */
  observeDump(event: EngineEvent, progress: () => DumpProgress): void {
    switch (event.type) {
      case 'file': {
        const kind = { kind: event.kind };
        seriesOf(this.files, this.filesByKind, event.kind, kind).inc();
        seriesOf(this.bytes, this.bytesByKind, event.kind, kind).inc(event.bytes);
        if (event.kind === 'segment') this.segments.inc();
        if (event.kind === 'chunklist') {
          const name = event.path.slice(event.path.lastIndexOf('/') + 1);
          const lag = progress().renditions.find((r) => r.chunklist === name)?.lagSeconds;
          if (lag !== undefined) this.lag.observe(lag);
        }
        break;
      }
      case 'gap':
        this.gaps.inc();
        break;
      case 'status':
        this.statuses.inc({ status: event.status });
        break;
    }
  }

  observeOriginRequest(event: OriginRequestEvent): void {
    const outcome = 'status' in event ? `${Math.floor(event.status / 100)}xx` : event.failure;
    seriesOf(this.originRequests, this.requestsByOutcome, outcome, { outcome }).inc();
  }

  observeOriginRetry(_event: RetryEvent): void {
    this.originRetries.inc();
  }

  handedOff(reason: 'shutdown' | 'rebalance', count = 1): void {
    this.handoffs.inc({ reason }, count);
  }
}

/** The series of `counter` for one label value, from `known` once looked up. */
function seriesOf<T extends string>(
  counter: Counter<T>,
  known: Map<string, Counter.Internal>,
  value: string,
  labels: Partial<Record<T, string>>,
): Counter.Internal {
  let series = known.get(value);
  if (series === undefined) {
    series = counter.labels(labels);
    known.set(value, series);
  }
  return series;
}
