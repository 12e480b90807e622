import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './http-server.test-support.js';
import { OriginClient } from './origin-client.js';
import { OriginRangeError } from './origin-range-error.js';

const BODY = Buffer.from('0123456789abcdefghij');

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('OriginClient: headers and byte ranges', () => {
  let server: TestServer | undefined;
  let client: OriginClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
  });

  it('sends the configured headers with every request', async () => {
    const seen: (string | undefined)[] = [];
    server = await startTestServer((req, res) => {
      seen.push(req.headers['authorization'] as string | undefined);
      res.end('#EXTM3U\n');
    });
    client = new OriginClient({ headers: { Authorization: 'Bearer t0ken' } });
    await client.getText(`${server.origin}/a.m3u8`);
    await client.download(`${server.origin}/b.ts`, collect);
    expect(seen).toEqual(['Bearer t0ken', 'Bearer t0ken']);
  });

  it('asks for a range and takes the 206 part', async () => {
    server = await startTestServer((req, res) => {
      const [, start, end] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '') ?? [];
      const part = BODY.subarray(Number(start), Number(end) + 1);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${BODY.length}` });
      res.end(part);
    });
    client = new OriginClient();
    const part = await client.download(`${server.origin}/main.mp4`, collect, {
      range: { offset: 4, length: 6 },
    });
    expect(part.toString()).toBe('456789');
  });

  it('refuses a whole body where a range was asked for, naming the problem', async () => {
    server = await startTestServer((_req, res) => res.end(BODY));
    client = new OriginClient();
    const download = client.download(`${server.origin}/main.mp4`, collect, {
      range: { offset: 4, length: 6 },
    });
    await expect(download).rejects.toBeInstanceOf(OriginRangeError);
    await expect(download).rejects.toThrow(/does not serve byte ranges/);
  });
});
