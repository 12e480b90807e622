import { withTimeout } from '@hlsdump/contracts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  /** 0: a free port (the bound one is in `port` once listening). */
  port: number;
  host?: string;
  metrics: Registry;
  /** The commands connection: `/readyz` pings it. */
  redis: Redis;
  /** False once the worker stops taking jobs (shutting down). */
  takingJobs: () => boolean;
  pingTimeoutMs?: number;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The worker's own small HTTP server on METRICS_PORT: `/metrics` (Prometheus text), `/healthz` (the
 * process answers), `/readyz` (Redis answers and the worker takes jobs; 503 while shutting down).
 * Nothing a client sends here can reach a dump: every failure ends as an HTTP status.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const pingTimeoutMs = options.pingTimeoutMs ?? 1_000;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return json(res, 405, { status: 'GET only' });
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      if (!options.takingJobs()) return json(res, 503, { status: 'shutting down' });
      const redisUp = await ping(options.redis, pingTimeoutMs);
      return json(res, redisUp ? 200 : 503, { status: redisUp ? 'ready' : 'redis unavailable' });
    }
    if (path === '/metrics') {
      const text = await options.metrics.metrics();
      res.writeHead(200, { 'content-type': options.metrics.contentType });
      res.end(text);
      return;
    }
    json(res, 404, { status: 'not found' });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { status: (error as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeServer(server),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function ping(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  return withTimeout(
    redis.ping().then(
      () => true,
      () => false,
    ),
    timeoutMs,
    false,
  );
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
