// The LL-HLS test origin: node:http on loopback, serving any number of live streams
// at /{app}/{stream}/... in OvenMediaEngine's layout.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loadFixtures } from './fixtures.js';
import { createStreamClock, type StreamClock } from './stream-clock.js';
import { LiveStream, type StreamControl, type StreamOptions } from './live-stream.js';
import { parseResourceName } from './llhls-names.js';
import { abortableDelay, sendReply } from './send-reply.js';

export interface TestOriginOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Media seconds per real second. Default 1. */
  readonly speed?: number;
  /** Directory made by scripts/make-fixtures.sh. Default: the package's fixtures/. */
  readonly fixturesDir?: string;
}

export interface TestOrigin {
  /** e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  readonly clock: StreamClock;
  addStream(app: string, stream: string, options?: StreamOptions): StreamControl;
  stream(app: string, stream: string): StreamControl | undefined;
  /** Stops listening, ends held requests and closes every connection. */
  close(): Promise<void>;
}

export async function createTestOrigin(options: TestOriginOptions = {}): Promise<TestOrigin> {
  const renditions = loadFixtures(options.fixturesDir);
  const clock = createStreamClock(options.speed ?? 1);
  const closing = new AbortController();
  const streams = new Map<string, LiveStream>();
  const keyOf = (app: string, stream: string): string => `${app}\u0000${stream}`;

  // Each TCP connection's arrival-order number, so that a request log tells reuse from reconnects.
  const connectionIds = new WeakMap<Socket, number>();
  let connections = 0;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error) + '\n');
      } else {
        res.destroy();
      }
    });
  });

  server.on('connection', (socket: Socket) => connectionIds.set(socket, ++connections));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://origin');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      await sendReply(res, { status: 405, body: Buffer.from('method not allowed\n') });
      return;
    }
    const segments = url.pathname.split('/').slice(1).map(safeDecode);
    const [app, name, file] = segments;
    const live =
      segments.length === 3 && app && name && file ? streams.get(keyOf(app, name)) : undefined;
    if (!live || !file) {
      await sendReply(res, {
        status: 404,
        contentType: 'text/plain',
        body: Buffer.from('not found\n'),
      });
      return;
    }
    const ref = parseResourceName(file, live.streamKey);
    const record = live.record(
      url.pathname,
      ref.kind,
      req.headers['user-agent'],
      connectionIds.get(req.socket),
    );

    await abortableDelay(live.faults.latencyMs, closing.signal);
    const failure = live.faults.takeFailure(url.pathname);
    const reply =
      failure !== undefined
        ? { status: failure, contentType: 'text/plain', body: Buffer.from(`injected ${failure}\n`) }
        : await live.resolve(ref, url.searchParams);
    const drop = live.faults.takeDrop(url.pathname);
    const stallMs = drop ? undefined : live.faults.takeStall(url.pathname);
    record.status = drop ? 0 : reply.status;
    await sendReply(res, reply, {
      drop,
      ...(stallMs !== undefined ? { stallMs } : {}),
      signal: closing.signal,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    clock,
    addStream(app, stream, streamOptions = {}) {
      if (!app || !stream || app.includes('/') || stream.includes('/'))
        throw new Error(`invalid app/stream ${app}/${stream}`);
      const key = keyOf(app, stream);
      if (streams.has(key)) throw new Error(`stream ${app}/${stream} already exists`);
      const live = new LiveStream(app, stream, streamOptions, {
        clock,
        baseUrl: url,
        renditions,
        closed: closing.signal,
      });
      streams.set(key, live);
      return live;
    },
    stream(app, stream) {
      return streams.get(keyOf(app, stream));
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Give held requests that just woke up a turn to answer before sockets go away.
      await new Promise((resolve) => setImmediate(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
