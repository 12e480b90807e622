// An HLS origin over a directory of finished files (what ffmpeg wrote), with the access rules real
// platforms put in front of their streams: signed URLs, a required header, HTTPS. It answers
// byte-range requests, as a CDN does for EXT-X-BYTERANGE playlists.
import { createHmac, randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

export interface FileOriginOptions {
  /**
   * Every URI in a served playlist gets a `token` query parameter minted for that response; any
   * request but the entry playlists' without a valid token is refused (403).
   */
  signedUrls?: boolean;
  /** Playlists served without a token (the entry points a client is given). */
  entryPlaylists?: readonly string[];
  /** A header every request must carry, else 401. */
  requiredHeader?: { name: string; value: string };
  /** Serve HTTPS with this certificate (PEM). */
  tls?: { key: string; cert: string };
  /**
   * Let pages of any origin read the answers (CORS), as a key server for web players does: a
   * copy that keeps a key's URI at the origin has the player fetch it from there.
   */
  crossOrigin?: boolean;
}

export interface FileOriginRequest {
  path: string;
  query: string;
  range?: string;
  status: number;
}

export interface FileOrigin {
  /** `http(s)://127.0.0.1:PORT/` */
  readonly baseUrl: string;
  /** Every request answered, in order. */
  readonly requests: readonly FileOriginRequest[];
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.vtt': 'text/vtt',
  '.key': 'application/octet-stream',
};

export async function serveFileOrigin(
  dir: string,
  options: FileOriginOptions = {},
): Promise<FileOrigin> {
  const root = resolve(dir);
  const secret = randomBytes(16);
  const entries = new Set((options.entryPlaylists ?? []).map((name) => `/${name}`));
  const requests: FileOriginRequest[] = [];
  const sign = (path: string): string => {
    const nonce = randomBytes(6).toString('hex');
    const mac = createHmac('sha256', secret).update(`${nonce}:${path}`).digest('hex').slice(0, 20);
    return `${nonce}.${mac}`;
  };
  const validToken = (path: string, token: string | null): boolean => {
    const [nonce, mac] = (token ?? '').split('.');
    if (!nonce || !mac) return false;
    const expected = createHmac('sha256', secret).update(`${nonce}:${path}`).digest('hex');
    return expected.slice(0, 20) === mac;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://origin');
    const record: FileOriginRequest = { path: url.pathname, query: url.search, status: 0 };
    if (typeof req.headers.range === 'string') record.range = req.headers.range;
    requests.push(record);
    const reply = (status: number, body: Buffer | string, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Cache-Control': 'no-cache',
        // Closed unless asked for: the player loads the copy, and only a key kept at the origin
        // is fetched from here by a page.
        ...(options.crossOrigin && { 'Access-Control-Allow-Origin': '*' }),
        ...headers,
        'Content-Length': String(Buffer.byteLength(body)),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    const required = options.requiredHeader;
    if (required && req.headers[required.name.toLowerCase()] !== required.value) {
      return reply(401, `missing ${required.name}\n`);
    }
    let path: string;
    try {
      path = resolve(root, '.' + decodeURIComponent(url.pathname));
    } catch {
      return reply(400, 'bad path\n');
    }
    if (!path.startsWith(root + sep)) return reply(404, 'not found\n');
    if (
      options.signedUrls &&
      !entries.has(url.pathname) &&
      !validToken(url.pathname, url.searchParams.get('token'))
    ) {
      return reply(403, 'missing or invalid token\n');
    }
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch {
      return reply(404, 'not found\n');
    }
    const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
    if (extname(path) === '.m3u8' && options.signedUrls) {
      const signed = signPlaylist(data.toString('utf8'), url, sign);
      return reply(200, signed, { 'Content-Type': type });
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(record.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), data.length - 1);
      if (start > end) return reply(416, 'range not satisfiable\n');
      return reply(206, data.subarray(start, end + 1), {
        'Content-Type': type,
        'Content-Range': `bytes ${start}-${end}/${data.length}`,
      });
    }
    return reply(200, data, { 'Content-Type': type, 'Accept-Ranges': 'bytes' });
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : createHttpServer(listener);
  await new Promise<void>((done, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** Adds a freshly minted token to every URI line and URI="…" attribute of a playlist. */
function signPlaylist(text: string, playlistUrl: URL, sign: (path: string) => string): string {
  const withToken = (uri: string): string => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) return uri; // data:, skd://, absolute elsewhere
    const target = new URL(uri, playlistUrl);
    target.searchParams.set('token', sign(target.pathname));
    return uri.split('?', 1)[0] + target.search;
  };
  return text
    .split('\n')
    .map((line) => {
      if (line.trim() === '') return line;
      if (!line.startsWith('#')) return withToken(line.trim());
      return line.replace(/([:,])URI="([^"]*)"/g, (_all, sepChar: string, uri: string) => {
        return `${sepChar}URI="${withToken(uri)}"`;
      });
    })
    .join('\n');
}
