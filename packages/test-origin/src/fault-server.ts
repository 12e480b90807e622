// An HTTP origin that misbehaves on purpose: it passes requests through to a real origin and, for
// the requests a test picks, answers with what no real server sends on purpose (a body shorter
// than its Content-Length, a reset mid-body, a 50 MB playlist, garbage, a drip, a redirect loop...).
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

export const FAULT_KINDS = [
  'short-body',
  'reset',
  'huge-playlist',
  'binary-playlist',
  'invalid-utf8-playlist',
  'drip',
  'redirect-loop',
  'html-error',
  'gzip-unasked',
  'br-unasked',
  'deflate-unasked',
  'partial-content',
  'too-many-requests',
  'huge-header',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Playlists end in .m3u8; everything else (segments, init, keys) is media. */
export type RequestClass = 'playlist' | 'media';

/** Faults that only make sense for a playlist (random bytes are indistinguishable from media). */
const PLAYLIST_ONLY: ReadonlySet<FaultKind> = new Set([
  'huge-playlist',
  'binary-playlist',
  'invalid-utf8-playlist',
]);

/** The kinds that apply to a request of this class. */
export function faultsFor(requestClass: RequestClass): FaultKind[] {
  return FAULT_KINDS.filter((kind) => requestClass === 'playlist' || !PLAYLIST_ONLY.has(kind));
}

export interface FaultRequest {
  /** Path and query, as the client sent them. */
  readonly path: string;
  readonly class: RequestClass;
}

export interface FaultServerOptions {
  /** The real origin, e.g. http://127.0.0.1:PORT; requests keep their path and query. */
  readonly upstream: string;
  /** The fault to answer this request with, or undefined to pass the origin's answer through. */
  readonly choose: (request: FaultRequest) => FaultKind | undefined;
  /** Pause between the bytes of a dripping body. Default 1000 (a byte a second). */
  readonly dripIntervalMs?: number;
  /** Size of the huge playlist. Default 50 MB. */
  readonly hugePlaylistBytes?: number;
  readonly host?: string;
}

export interface FaultServer {
  /** e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  /** Faults served so far, by kind. */
  readonly served: Readonly<Record<FaultKind, number>>;
  /** Requests answered with the origin's own answer. */
  readonly passedThrough: number;
  close(): Promise<void>;
}

interface UpstreamAnswer {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

const LOOP_PREFIX = '/__redirect-loop/';

export async function createFaultServer(options: FaultServerOptions): Promise<FaultServer> {
  const served = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<
    FaultKind,
    number
  >;
  let passedThrough = 0;
  const dripIntervalMs = options.dripIntervalMs ?? 1000;
  const hugeBytes = options.hugePlaylistBytes ?? 50 * 1024 * 1024;
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    if (path.startsWith(LOOP_PREFIX)) {
      // Two hops that point at each other, forever.
      const next = path.endsWith('/a') ? 'b' : 'a';
      res.writeHead(302, { Location: `${LOOP_PREFIX}${next}`, 'Content-Length': 0 }).end();
      return;
    }
    const requestClass: RequestClass = /\.m3u8(\?|$)/.test(path) ? 'playlist' : 'media';
    const kind = options.choose({ path, class: requestClass });
    const upstream = await fetchUpstream(options.upstream + path, req.headers['user-agent']);
    if (kind === undefined || upstream.status !== 200) {
      passedThrough++;
      send(res, upstream.status, upstream.body, { 'Content-Type': upstream.contentType });
      return;
    }
    served[kind]++;
    serveFault(kind, upstream, res);
  }

  function serveFault(kind: FaultKind, upstream: UpstreamAnswer, res: ServerResponse): void {
    const { body } = upstream;
    const type = { 'Content-Type': upstream.contentType };
    const half = body.subarray(0, Math.max(1, Math.floor(body.length / 2)));
    switch (kind) {
      case 'short-body':
        res.writeHead(200, { ...type, 'Content-Length': body.length + 1000 });
        res.write(half, () => res.socket?.end());
        return;
      case 'reset':
        res.writeHead(200, { ...type, 'Content-Length': body.length });
        res.write(half, () => res.socket?.resetAndDestroy());
        return;
      case 'huge-playlist':
        streamHugePlaylist(res, hugeBytes);
        return;
      case 'binary-playlist':
        send(res, 200, randomBytes(4096), { 'Content-Type': 'application/vnd.apple.mpegurl' });
        return;
      case 'invalid-utf8-playlist': {
        const text = body.toString('utf8');
        const firstLine = text.indexOf('\n') + 1;
        const invalid = Buffer.concat([
          Buffer.from(text.slice(0, firstLine)),
          Buffer.from([0x23, 0xff, 0xfe, 0xc3, 0x28, 0x0a]), // "#", bytes no UTF-8 text has, "\n"
          Buffer.from(text.slice(firstLine)),
        ]);
        send(res, 200, invalid, type);
        return;
      }
      case 'drip':
        drip(res, body, type);
        return;
      case 'redirect-loop':
        res.writeHead(302, { Location: `${LOOP_PREFIX}a`, 'Content-Length': 0 }).end();
        return;
      case 'html-error':
        send(
          res,
          200,
          Buffer.from('<!DOCTYPE html><html><body><h1>Service unavailable</h1></body></html>\n'),
          { 'Content-Type': 'text/html; charset=utf-8' },
        );
        return;
      case 'gzip-unasked':
        send(res, 200, gzipSync(body), { ...type, 'Content-Encoding': 'gzip' });
        return;
      case 'br-unasked':
        send(res, 200, brotliCompressSync(body), { ...type, 'Content-Encoding': 'br' });
        return;
      case 'deflate-unasked':
        send(res, 200, deflateSync(body), { ...type, 'Content-Encoding': 'deflate' });
        return;
      case 'partial-content':
        send(res, 206, half, {
          ...type,
          'Content-Range': `bytes 0-${half.length - 1}/${body.length}`,
        });
        return;
      case 'too-many-requests':
        send(res, 429, Buffer.from('slow down\n'), {
          'Content-Type': 'text/plain',
          'Retry-After': '1',
        });
        return;
      case 'huge-header':
        send(res, 200, body, { ...type, 'X-Padding': 'p'.repeat(200 * 1024) });
        return;
    }
  }

  function drip(res: ServerResponse, body: Buffer, type: Record<string, string | undefined>): void {
    res.writeHead(200, { ...type, 'Content-Length': body.length });
    let offset = 0;
    const next = (): void => {
      if (res.destroyed || offset >= body.length) {
        res.end();
        return;
      }
      res.write(body.subarray(offset, offset + 1));
      offset++;
      const timer = setTimeout(() => {
        timers.delete(timer);
        next();
      }, dripIntervalMs);
      timers.add(timer);
    };
    next();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    served,
    get passedThrough() {
      return passedThrough;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: Buffer,
  headers: Record<string, string | undefined>,
): void {
  const defined = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined));
  res.writeHead(status, { ...defined, 'Content-Length': body.length }).end(body);
}

/** A playlist that starts well and goes on for `bytes` bytes, sent chunked, with backpressure. */
function streamHugePlaylist(res: ServerResponse, bytes: number): void {
  res.writeHead(200, { 'Content-Type': 'application/vnd.apple.mpegurl' });
  const line = Buffer.from(`# ${'x'.repeat(1021)}\n`);
  const chunk = Buffer.concat([
    Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:4\n'),
    ...Array.from({ length: 64 }, () => line),
  ]);
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.on('close', () => res.off('drain', pump));
  pump();
}

/** The real origin's answer, whole (test origins serve small bodies). */
function fetchUpstream(url: string, userAgent: string | undefined): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'user-agent': userAgent ?? 'fault-server' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 502,
          contentType: res.headers['content-type'],
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
