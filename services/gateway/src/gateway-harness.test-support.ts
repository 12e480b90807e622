import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRedis, type TestRedis } from '../../../test/support/redis-server.js';
import { uniqueName } from '../../../test/support/unique-name.js';
import { pino } from 'pino';
import { loadConfig, type GatewayConfig } from './config.js';
import { createGateway, type Gateway } from './gateway.js';
import { ProtocolWorker, type Behaviour } from './protocol-worker.test-support.js';

export const ACCESS_TOKEN = 'ome-user:s3cret';
export const AUTH = `Basic ${Buffer.from(ACCESS_TOKEN).toString('base64')}`;

/** A tiny origin: answers 200 for the master playlists in `streams`, 404 for anything else. */
export class MasterPlaylistOrigin {
  readonly streams = new Set<string>();
  readonly requests: string[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<MasterPlaylistOrigin> {
    const server = createServer();
    const origin = new MasterPlaylistOrigin(server);
    server.on('request', (req, res) => {
      origin.requests.push(req.url ?? '');
      if (origin.streams.has(req.url ?? '')) {
        res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end('#EXTM3U\n');
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return origin;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export interface Harness {
  url: string;
  redis: TestRedis;
  origin: MasterPlaylistOrigin;
  gateway: Gateway;
  config: GatewayConfig;
  /** The one allowed output root (a fresh temp directory). */
  root: string;
  /** A directory outside every output root. */
  outside: string;
  post(
    path: string,
    body?: unknown,
    options?: { auth?: string | null; raw?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
  get(path: string, options?: { auth?: string | null }): Promise<ApiResponse>;
  /** A protocol-level worker on this gateway's Redis, queue and key prefix. */
  startWorker(workerId: string, behaviour?: Behaviour): Promise<ProtocolWorker>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: { statusCode?: number; message?: string; response?: unknown } & Record<string, unknown>;
  text: string;
}

/** The gateway in-process on an ephemeral port, with its own Redis, origin and output root. */
export async function startHarness(
  env: Record<string, string> = {},
  redis?: TestRedis,
): Promise<Harness> {
  const testRedis = redis ?? (await startTestRedis());
  const origin = await MasterPlaylistOrigin.start();
  const tmp = await mkdtemp(join(tmpdir(), 'hlsdump-gw-'));
  const root = join(tmp, 'root');
  const outside = join(tmp, 'outside');
  await Promise.all([mkdir(root), mkdir(outside)]);
  const originsFile = join(tmp, 'origins.json');
  await writeFile(
    originsFile,
    JSON.stringify({
      vhosts: {
        default: {
          apps: {
            app: {
              origin: `http://127.0.0.1:${origin.port}/{app}/{outputStreamName}/`,
              defaultPlaylist: 'llhls.m3u8',
            },
          },
        },
      },
    }),
  );
  const config = loadConfig({
    REDIS_URL: testRedis.url,
    ACCESS_TOKEN,
    OUTPUT_ROOTS: root,
    HLSDUMP_ORIGINS: originsFile,
    QUEUE_NAME: uniqueName('gw-test'),
    REDIS_PREFIX: uniqueName('hlsdump-test'),
    START_TIMEOUT_MS: '3000',
    STOP_TIMEOUT_MS: '3000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const gateway = await createGateway(config, {
    logger: pino({ level: process.env.HLSDUMP_TEST_LOG ?? 'silent' }),
  });
  await gateway.ready();
  const server = gateway.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  gateway.attachServer(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call = async (
    method: string,
    path: string,
    body: unknown,
    options: { auth?: string | null; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...options.headers };
    const auth = options.auth === undefined ? AUTH : options.auth;
    if (auth !== null) headers.authorization = auth;
    let payload: string | undefined = options.raw;
    if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(payload !== undefined && { body: payload }),
    });
    const text = await response.text();
    let parsed: ApiResponse['body'] = {};
    try {
      parsed = JSON.parse(text) as ApiResponse['body'];
    } catch {
      // left empty: tests assert on JSON bodies, a non-JSON one fails them
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  return {
    url,
    redis: testRedis,
    origin,
    gateway,
    config,
    root,
    outside,
    post: (path, body, options) => call('POST', path, body, options),
    get: (path, options) => call('GET', path, undefined, options),
    startWorker: (workerId, behaviour) =>
      ProtocolWorker.start({
        redisUrl: testRedis.url,
        queueName: config.queueName,
        prefix: config.redisPrefix,
        workerId,
        ...(behaviour !== undefined && { behaviour }),
      }),
    close: async () => {
      await gateway.shutdown.close();
      await origin.close();
      if (!redis) await testRedis.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

export const startPath = (stream = 'stream', vhost = 'default', app = 'app'): string =>
  `/v1/vhosts/${vhost}/apps/${app}/streams/${stream}:startHlsDump`;
export const stopPath = (stream = 'stream', vhost = 'default', app = 'app'): string =>
  `/v1/vhosts/${vhost}/apps/${app}/streams/${stream}:stopHlsDump`;
