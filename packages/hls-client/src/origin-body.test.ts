import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginBody } from './origin-body.js';
import { OriginClient } from './origin-client.js';
import type { RetryPolicy } from './retry-policy.js';
import { startTestServer } from './http-server.test-support.js';
import type { TestServer } from './http-server.test-support.js';

const fast: RetryPolicy = {
  maxRetries: 4,
  retryDelayMs: 5,
  maxRetryDelayMs: 20,
  backoff: 'exponential',
};

let server: TestServer | undefined;
let client: OriginClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

/** Takes a body's chunks the way the storage's segment writer does: straight from the body. */
function takeAll(body: Readable): Promise<Buffer> {
  if (!(body instanceof OriginBody)) throw new Error('not an OriginBody');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const taken = body.deliverTo({
      chunk: (data) => chunks.push(data),
      end: () => resolve(Buffer.concat(chunks)),
      fail: reject,
    });
    if (!taken) reject(new Error('the body would not deliver'));
  });
}

function patterned(bytes: number): Buffer {
  return Buffer.from(Buffer.alloc(bytes).map((_, i) => (i * 7 + (i >> 9)) & 0xff));
}

describe('OriginBody, taken chunk by chunk', () => {
  it('copies a body of many chunks byte for byte', async () => {
    const payload = patterned(3 * 1024 * 1024 + 17);
    server = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(payload.length) });
      for (let at = 0; at < payload.length; at += 50_000)
        res.write(payload.subarray(at, at + 50_000));
      res.end();
    });
    client = new OriginClient({ retry: fast });
    const copy = await client.download(`${server.origin}/seg.m4s`, takeAll);
    expect(copy.equals(payload)).toBe(true);
  });

  it('a connection dropped mid-body is retried with a fresh body', async () => {
    const payload = patterned(400_000);
    let n = 0;
    server = await startTestServer((_req, res) => {
      n++;
      res.writeHead(200, { 'content-length': String(payload.length) });
      if (n === 1) {
        res.write(payload.subarray(0, 150_000), () => res.socket?.destroy());
        return;
      }
      res.end(payload);
    });
    client = new OriginClient({ retry: fast });
    let calls = 0;
    const copy = await client.download(`${server.origin}/seg.m4s`, (body) => {
      calls++;
      return takeAll(body);
    });
    expect(copy.equals(payload)).toBe(true);
    expect(calls).toBe(2);
  });

  it('a stalled body is retried (bodyTimeout), and so is one past its deadline', async () => {
    let n = 0;
    server = await startTestServer((_req, res) => {
      n++;
      res.writeHead(200, { 'content-length': n === 2 ? '1000' : '10' });
      if (n === 1) {
        res.write('12345'); // then silence
        return;
      }
      if (n === 2) {
        // a byte now and then: never silent for bodyTimeout, past the deadline
        const drip = setInterval(() => res.write('x'), 20);
        res.on('close', () => clearInterval(drip));
        return;
      }
      res.end('1234567890');
    });
    client = new OriginClient({ retry: fast, bodyTimeoutMs: 150, bodyDeadlineMs: 200 });
    const copy = await client.download(`${server.origin}/seg.ts`, takeAll);
    expect(copy.toString()).toBe('1234567890');
    expect(n).toBe(3);
  });

  it('an abort in flight rejects with its reason', async () => {
    server = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write('partial'); // and never finishes
    });
    client = new OriginClient({ retry: fast, bodyTimeoutMs: 30_000 });
    const controller = new AbortController();
    const reason = new Error('stop');
    const pending = client.download(
      `${server.origin}/seg.ts`,
      (body) => {
        setTimeout(() => controller.abort(reason), 20);
        return takeAll(body);
      },
      { signal: controller.signal },
    );
    await expect(pending).rejects.toBe(reason);
  });

  it('a consumer that throws fails the download with its error, without a retry', async () => {
    server = await startTestServer((_req, res) => res.end(patterned(200_000)));
    client = new OriginClient({ retry: fast });
    const diskFull = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const pending = client.download(`${server.origin}/seg.ts`, (body) => {
      if (!(body instanceof OriginBody)) throw new Error('not an OriginBody');
      return new Promise((_resolve, reject) => {
        body.deliverTo({
          chunk: () => {
            throw diskFull;
          },
          end: () => reject(new Error('ended')),
          fail: reject,
        });
      });
    });
    await expect(pending).rejects.toBe(diskFull);
    expect(server.requests).toHaveLength(1);
  });

  it('once read as a stream, it will not deliver; read whole as a stream, it keeps its bytes', async () => {
    const payload = patterned(300_000);
    server = await startTestServer((_req, res) => res.end(payload));
    client = new OriginClient({ retry: fast });
    const copy = await client.download(`${server.origin}/seg.ts`, async (body) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        chunks.push(chunk as Buffer);
        if (chunks.length === 1) {
          expect((body as OriginBody).deliverTo({ chunk() {}, end() {}, fail() {} })).toBe(false);
        }
      }
      return Buffer.concat(chunks);
    });
    expect(copy.equals(payload)).toBe(true);
  });

  it('a body not taken is thrown away, keeping the connection reusable', async () => {
    server = await startTestServer((req, res) =>
      res.end(req.url === '/a.ts' ? patterned(90_000) : 'next'),
    );
    client = new OriginClient({ retry: fast, connectionsPerOrigin: 1 });
    await client.download(`${server.origin}/a.ts`, async () => 'ignored');
    expect((await client.getText(`${server.origin}/b.m3u8`)).text).toBe('next');
  });
});
