import type { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginClient } from './origin-client.js';
import { OriginAnswerError } from './origin-errors.js';
import { startTestServer, type TestServer } from './http-server.test-support.js';

let server: TestServer | undefined;
let client: OriginClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

const once = { maxRetries: 0, retryDelayMs: 1, maxRetryDelayMs: 1, backoff: 'linear' as const };
const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n';

async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('what the origin client accepts of a 2xx answer', () => {
  it('asks for gzip on playlists and identity on media', async () => {
    const asked: (string | undefined)[] = [];
    server = await startTestServer((req, res) => {
      asked.push(req.headers['accept-encoding']);
      res.end(req.url === '/p.m3u8' ? PLAYLIST : 'media');
    });
    client = new OriginClient({ retry: once });
    await client.getText(`${server.origin}/p.m3u8`);
    await client.download(`${server.origin}/s.ts`, bytesOf);
    expect(asked).toEqual(['gzip, deflate, br', 'identity']);
  });

  it('refuses an encoding it cannot decode, naming it', async () => {
    server = await startTestServer((_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'compress' }).end('LZW bytes');
    });
    client = new OriginClient({ retry: once });
    await expect(client.download(`${server.origin}/s.ts`, bytesOf)).rejects.toMatchObject({
      code: 'ORIGIN_CONTENT_ENCODING',
      message: expect.stringContaining('compress'),
    });
  });

  it('refuses a gzip body that does not decode, and takes the next good answer', async () => {
    const media = Buffer.from('the segment bytes');
    let n = 0;
    server = await startTestServer((_req, res) => {
      const body = n++ === 0 ? gzipSync(media).subarray(0, 12) : gzipSync(media);
      res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(body);
    });
    const retries: unknown[] = [];
    client = new OriginClient({
      retry: { ...once, maxRetries: 1 },
      onRetry: (event) => retries.push(event.error),
    });
    expect(await client.download(`${server.origin}/s.ts`, bytesOf)).toEqual(media);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toBeInstanceOf(OriginAnswerError);
    expect((retries[0] as OriginAnswerError).code).toBe('ORIGIN_CONTENT_ENCODING');
  });

  it('names a connection reset inside a gzip body as a network error, not a decoding one', async () => {
    const media = Buffer.from('x'.repeat(100_000));
    let n = 0;
    server = await startTestServer((_req, res) => {
      const body = gzipSync(media, { level: 0 });
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': body.length });
      if (n++ > 0) return void res.end(body);
      res.write(body.subarray(0, 50_000), () => res.socket?.resetAndDestroy());
    });
    const retries: unknown[] = [];
    client = new OriginClient({
      retry: { ...once, maxRetries: 1 },
      onRetry: (event) => retries.push(event.error),
    });
    expect(await client.download(`${server.origin}/s.ts`, bytesOf)).toEqual(media);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ code: 'ORIGIN_NETWORK' });
  });

  it('refuses an HTML page by its type and markup, keeps media or a playlist mislabelled text/html', async () => {
    const media = Buffer.from([0x47, 0x40, 0x11, 0x10, 0x3c]);
    server = await startTestServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      if (req.url === '/page.ts') return void res.end('\n  <!DOCTYPE html><h1>Oops</h1>');
      res.end(req.url === '/p.m3u8' ? PLAYLIST : media);
    });
    client = new OriginClient({ retry: once });
    await expect(client.download(`${server.origin}/page.ts`, bytesOf)).rejects.toMatchObject({
      code: 'ORIGIN_HTML_PAGE',
    });
    await expect(client.getText(`${server.origin}/page.ts`)).rejects.toMatchObject({
      code: 'ORIGIN_HTML_PAGE',
    });
    expect(await client.download(`${server.origin}/s.ts`, bytesOf)).toEqual(media);
    expect((await client.getText(`${server.origin}/p.m3u8`)).text).toBe(PLAYLIST);
  });

  it('takes a 206 that spans the whole resource, refuses one that does not', async () => {
    const media = Buffer.from('0123456789');
    server = await startTestServer((req, res) => {
      const whole = req.url === '/whole.ts';
      const body = whole ? media : media.subarray(0, 5);
      res
        .writeHead(206, { 'Content-Range': `bytes 0-${body.length - 1}/${media.length}` })
        .end(body);
    });
    client = new OriginClient({ retry: once });
    expect(await client.download(`${server.origin}/whole.ts`, bytesOf)).toEqual(media);
    await expect(client.download(`${server.origin}/part.ts`, bytesOf)).rejects.toMatchObject({
      code: 'ORIGIN_PARTIAL_CONTENT',
      message: expect.stringContaining('bytes 0-4/10'),
    });
  });

  it('refuses a playlist past the size limit while reading it, naming the limit', async () => {
    server = await startTestServer((_req, res) => {
      res.write('#EXTM3U\n');
      // Chunked, no Content-Length: the limit must be counted on the way.
      const line = `#${'x'.repeat(1023)}\n`;
      for (let i = 0; i < 64; i++) res.write(line);
      res.end();
    });
    client = new OriginClient({ retry: once, maxPlaylistBytes: 32 * 1024 });
    await expect(client.getText(`${server.origin}/p.m3u8`)).rejects.toMatchObject({
      code: 'ORIGIN_BODY_TOO_LARGE',
      message: expect.stringContaining('32768 bytes'),
    });
  });

  it('decodes a gzip, deflate or br playlist, and one encoded twice', async () => {
    const encoded: Record<string, [string, Buffer]> = {
      '/gzip.m3u8': ['gzip', gzipSync(PLAYLIST)],
      '/deflate.m3u8': ['deflate', deflateSync(PLAYLIST)],
      '/br.m3u8': ['br', brotliCompressSync(PLAYLIST)],
      '/twice.m3u8': ['gzip, br', brotliCompressSync(gzipSync(PLAYLIST))],
    };
    server = await startTestServer((req, res) => {
      const [coding, body] = encoded[req.url ?? '']!;
      res.writeHead(200, { 'Content-Encoding': coding }).end(body);
    });
    client = new OriginClient({ retry: once });
    for (const path of Object.keys(encoded))
      expect((await client.getText(`${server.origin}${path}`)).text).toBe(PLAYLIST);
  });

  it('refuses a gzip playlist that does not decode, or decodes past the size limit', async () => {
    server = await startTestServer((req, res) => {
      const body =
        req.url === '/cut.m3u8'
          ? gzipSync(PLAYLIST).subarray(0, 12)
          : gzipSync(`#EXTM3U\n#${'x'.repeat(64 * 1024)}\n`);
      res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(body);
    });
    client = new OriginClient({ retry: once, maxPlaylistBytes: 32 * 1024 });
    await expect(client.getText(`${server.origin}/cut.m3u8`)).rejects.toMatchObject({
      code: 'ORIGIN_CONTENT_ENCODING',
    });
    // A few hundred bytes on the wire, 64 KiB once decoded.
    await expect(client.getText(`${server.origin}/bomb.m3u8`)).rejects.toMatchObject({
      code: 'ORIGIN_BODY_TOO_LARGE',
      message: expect.stringContaining('32768 bytes'),
    });
  });

  it('refuses a playlist that is not UTF-8', async () => {
    server = await startTestServer((_req, res) => {
      res.end(
        Buffer.concat([Buffer.from('#EXTM3U\n#'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]),
      );
    });
    client = new OriginClient({ retry: once });
    await expect(client.getText(`${server.origin}/p.m3u8`)).rejects.toMatchObject({
      code: 'PLAYLIST_INVALID',
      message: expect.stringContaining('UTF-8'),
    });
  });

  it('waits what Retry-After asks on 429, within the policy cap', async () => {
    let n = 0;
    server = await startTestServer((_req, res) => {
      if (n++ === 0) return void res.writeHead(429, { 'Retry-After': '1' }).end();
      res.end(PLAYLIST);
    });
    const delays: number[] = [];
    client = new OriginClient({
      retry: { maxRetries: 1, retryDelayMs: 10, maxRetryDelayMs: 5_000, backoff: 'linear' },
      onRetry: (event) => delays.push(event.delayMs),
    });
    expect((await client.getText(`${server.origin}/p.m3u8`)).text).toBe(PLAYLIST);
    expect(delays).toEqual([1_000]);
  });
});
