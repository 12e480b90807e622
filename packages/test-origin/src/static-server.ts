// Minimal static file server over loopback, for serving what ffmpeg writes to disk.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

export interface ServedDirectory {
  /** e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.json': 'application/json',
};

export async function serveDirectory(
  dir: string,
  options: { host?: string; port?: number } = {},
): Promise<ServedDirectory> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const reply = (
      status: number,
      body: Buffer | string,
      type = 'text/plain; charset=utf-8',
    ): void => {
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    let path: string;
    try {
      path = resolve(root, '.' + decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    } catch {
      return reply(400, 'bad path\n');
    }
    if (!path.startsWith(root + sep)) return reply(404, 'not found\n');
    readFile(path).then(
      (data) => reply(200, data, CONTENT_TYPES[extname(path)] ?? 'application/octet-stream'),
      // ffmpeg deletes old segments as it goes; a vanished file is an ordinary 404.
      () => reply(404, 'not found\n'),
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
