import { DUMP_STATES, type DumpRegistry } from '@hlsdump/contracts';
import type { Queue } from 'bullmq';
import type { Request, RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { countDumpsByState } from './dump-state-counts.js';

/** A start waits for a worker to run the dump (up to START_TIMEOUT_MS); a stop for it to finalize. */
const LATENCY_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'completed',
  'failed',
] as const;
const STREAM_ACTIONS = new Set(['startHlsDump', 'stopHlsDump', 'hlsDumps']);

/**
 * The gateway's Prometheus metrics (docs/api.md#operations): API requests by route and status, start and stop
 * latency, dumps by state (the registry), the BullMQ queue's figures, Redis reachability, and the
 * process's own. Routes are labelled by name, never by path: names and ids stay out of labels.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route'>;
  private readonly starts: Histogram<'status'>;
  private readonly stops: Histogram<'status'>;

  constructor(sources: { registry: DumpRegistry; queue: Queue }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'hlsdump_gateway_' });
    this.requests = new Counter({
      name: 'hlsdump_api_requests_total',
      help: 'HTTP requests answered by the gateway, by method, route name and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.durations = new Histogram({
      name: 'hlsdump_api_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route name.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.starts = new Histogram({
      name: 'hlsdump_dump_start_duration_seconds',
      help: ':startHlsDump latency, until a worker runs the dump (200) or the request fails, by status code.',
      labelNames: ['status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.stops = new Histogram({
      name: 'hlsdump_dump_stop_duration_seconds',
      help: ':stopHlsDump latency, until the owners finalized the dumps (200) or the request fails, by status code.',
      labelNames: ['status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const redisUp = new Gauge({
      name: 'hlsdump_redis_up',
      help: 'Whether the gateway reached Redis at the last scrape (1) or not (0).',
      registers,
    });
    new Gauge({
      name: 'hlsdump_dumps',
      help: 'Dumps known to the registry, by state (ended ones until their record expires).',
      labelNames: ['state'],
      registers,
      async collect() {
        try {
          const counts = await countDumpsByState(sources.registry.redis, sources.registry.keys);
          for (const state of DUMP_STATES) this.set({ state }, counts[state]);
          redisUp.set(1);
        } catch {
          // Redis away: no figure rather than a stale one; the scrape itself still succeeds.
          this.reset();
          redisUp.set(0);
        }
      },
    });
    new Gauge({
      name: 'hlsdump_queue_jobs',
      help: "Jobs in the BullMQ dump queue, by BullMQ's state (active: dumps running; waiting and delayed: dumps waiting for a worker).",
      labelNames: ['state'],
      registers,
      async collect() {
        try {
          const counts = await sources.queue.getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
        } catch {
          this.reset();
        }
      },
    });
  }

  /** Counts and times every request once it is answered. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = routeName(req);
        const status = String(res.statusCode);
        this.requests.inc({ method: req.method, route, status });
        this.durations.observe({ method: req.method, route }, seconds);
        if (route === 'startHlsDump') this.starts.observe({ status }, seconds);
        if (route === 'stopHlsDump') this.stops.observe({ status }, seconds);
      });
      next();
    };
  }
}

/** A bounded name for what the request asked, whatever names and ids its path carries. */
export function routeName(req: Request): string {
  const path = req.path;
  if (['/healthz', '/readyz', '/metrics', '/scaling', '/openapi.json'].includes(path))
    return path.slice(1);
  const action = /^\/v1\/vhosts\/[^/]+\/apps\/[^/]+\/streams\/[^/]*:([^/:]+)$/.exec(path)?.[1];
  if (action !== undefined) return STREAM_ACTIONS.has(action) ? action : 'unknown';
  if (/^\/v1\/vhosts\/[^/]+\/apps\/[^/]+\/streams\/[^/]+\/hlsDumps\/[^/]+$/.test(path))
    return 'hlsDumpStatus';
  return 'unknown';
}
