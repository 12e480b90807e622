import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginClient } from './origin-client.js';
import { OriginHttpError, OriginNetworkError, OriginTimeoutError } from './origin-errors.js';
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

async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('OriginClient.getText', () => {
  it('retries a burst of 5xx and returns the eventual body', async () => {
    let n = 0;
    server = await startTestServer((_req, res) => {
      n++;
      if (n <= 3) {
        res.statusCode = n === 2 ? 502 : 503;
        res.end('busy');
        return;
      }
      res.end('#EXTM3U\nok');
    });
    client = new OriginClient({ retry: fast });
    const result = await client.getText(`${server.origin}/live/playlist.m3u8?x=1`);
    expect(result).toEqual({
      text: '#EXTM3U\nok',
      url: `${server.origin}/live/playlist.m3u8?x=1`,
      status: 200,
    });
    expect(server.requests).toHaveLength(4);
  });

  it('gives up after maxRetries with the last HTTP error', async () => {
    server = await startTestServer((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    client = new OriginClient({ retry: { ...fast, maxRetries: 2 } });
    const error = await client.getText(`${server.origin}/p.m3u8`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OriginHttpError);
    expect((error as OriginHttpError).status).toBe(500);
    expect(server.requests).toHaveLength(3);
  });

  it('throws a 404 at once', async () => {
    server = await startTestServer((_req, res) => {
      res.statusCode = 404;
      res.end('not here');
    });
    client = new OriginClient({ retry: fast });
    const error = await client.getText(`${server.origin}/missing.m3u8`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OriginHttpError);
    expect(error).toMatchObject({
      code: 'ORIGIN_HTTP_STATUS',
      status: 404,
      url: `${server.origin}/missing.m3u8`,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 404 when asked to (stream starting up)', async () => {
    let n = 0;
    server = await startTestServer((_req, res) => {
      n++;
      res.statusCode = n < 3 ? 404 : 200;
      res.end(n < 3 ? '' : 'up');
    });
    client = new OriginClient({ retry: fast });
    const result = await client.getText(`${server.origin}/p.m3u8`, { retryOn404: true });
    expect(result.text).toBe('up');
    expect(server.requests).toHaveLength(3);
  });

  it('never retries 400/403', async () => {
    for (const status of [400, 403]) {
      const s = await startTestServer((_req, res) => {
        res.statusCode = status;
        res.end();
      });
      const c = new OriginClient({ retry: fast });
      await expect(c.getText(`${s.origin}/p.m3u8`, { retryOn404: true })).rejects.toMatchObject({
        status,
      });
      expect(s.requests).toHaveLength(1);
      await c.close();
      await s.close();
    }
  });

  it('honours Retry-After', async () => {
    let n = 0;
    server = await startTestServer((_req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(503, { 'retry-after': '1' });
        res.end();
        return;
      }
      res.end('after');
    });
    client = new OriginClient({ retry: { ...fast, maxRetryDelayMs: 5_000 } });
    const result = await client.getText(`${server.origin}/p.m3u8`);
    expect(result.text).toBe('after');
    const [first, second] = server.requests;
    // our own backoff is at most 20 ms; only Retry-After explains a ~1 s gap
    expect(second!.at - first!.at).toBeGreaterThan(900);
  });

  it('follows redirects and reports the final URL', async () => {
    server = await startTestServer((req, res) => {
      if (req.url === '/a/master.m3u8') {
        res.writeHead(302, { location: '/b/master.m3u8?t=1' });
        res.end();
        return;
      }
      res.end('final');
    });
    client = new OriginClient({ retry: fast });
    const result = await client.getText(`${server.origin}/a/master.m3u8`);
    expect(result).toEqual({
      text: 'final',
      url: `${server.origin}/b/master.m3u8?t=1`,
      status: 200,
    });
  });

  it('maps a refused connection to OriginNetworkError after retrying', async () => {
    const s = await startTestServer((_req, res) => res.end());
    const url = `${s.origin}/p.m3u8`;
    await s.close();
    const retries: number[] = [];
    const c = new OriginClient({
      retry: { ...fast, maxRetries: 1 },
      onRetry: (e) => retries.push(e.attempt),
    });
    await expect(c.getText(url)).rejects.toBeInstanceOf(OriginNetworkError);
    expect(retries).toEqual([0]);
    await c.close();
  });

  it('maps a headers timeout to OriginTimeoutError', async () => {
    server = await startTestServer(() => {
      // never answers
    });
    client = new OriginClient({ retry: { ...fast, maxRetries: 1 }, headersTimeoutMs: 100 });
    await expect(client.getText(`${server.origin}/p.m3u8`)).rejects.toBeInstanceOf(
      OriginTimeoutError,
    );
    expect(server.requests).toHaveLength(2);
  });

  it('rejects at once with the abort reason during a hung request', async () => {
    server = await startTestServer(() => {
      // hangs forever
    });
    client = new OriginClient({ retry: fast, headersTimeoutMs: 30_000 });
    const controller = new AbortController();
    const arrived = once(server.server, 'request');
    const pending = client.getText(`${server.origin}/hang.m3u8`, { signal: controller.signal });
    await arrived;
    const reason = new Error('shutting down');
    const t0 = performance.now();
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('rejects at once when aborted during a backoff wait', async () => {
    server = await startTestServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    client = new OriginClient({
      retry: { maxRetries: 5, retryDelayMs: 20_000, maxRetryDelayMs: 20_000, backoff: 'linear' },
    });
    const controller = new AbortController();
    const arrived = once(server.server, 'request');
    const pending = client.getText(`${server.origin}/p.m3u8`, { signal: controller.signal });
    await arrived;
    // the 503 response reaches the client, which then sleeps for >= 10 s
    await new Promise<void>((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('OriginClient.download', () => {
  it('retries a body cut mid-way and gives the sink the full body on the next call', async () => {
    const payload = Buffer.alloc(256 * 1024, 'x');
    payload.write('START', 0);
    payload.write('END', payload.length - 3);
    let n = 0;
    server = await startTestServer((_req, res) => {
      n++;
      res.writeHead(200, { 'content-length': String(payload.length), 'content-type': 'video/mp4' });
      if (n === 1) {
        // half the body, then the connection drops
        res.write(payload.subarray(0, payload.length / 2), () => res.socket?.destroy());
        return;
      }
      res.end(payload);
    });
    client = new OriginClient({ retry: fast });
    const calls: { ok: boolean; length?: number }[] = [];
    const result = await client.download(`${server.origin}/seg_1.m4s`, async (body, info) => {
      expect(info.status).toBe(200);
      expect(info.headers['content-type']).toBe('video/mp4');
      try {
        const text = await readAll(body);
        calls.push({ ok: true, length: text.length });
        return text;
      } catch (error) {
        calls.push({ ok: false });
        throw error;
      }
    });
    expect(calls).toEqual([{ ok: false }, { ok: true, length: payload.length }]);
    expect(result.startsWith('START')).toBe(true);
    expect(result.endsWith('END')).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a stalled body (bodyTimeout)', async () => {
    let n = 0;
    server = await startTestServer((_req, res) => {
      n++;
      res.writeHead(200, { 'content-length': '10' });
      if (n === 1) {
        res.write('12345'); // then silence
        return;
      }
      res.end('1234567890');
    });
    client = new OriginClient({ retry: fast, bodyTimeoutMs: 150 });
    let calls = 0;
    const result = await client.download(`${server.origin}/seg.ts`, async (body) => {
      calls++;
      return readAll(body);
    });
    expect(result).toBe('1234567890');
    expect(calls).toBe(2);
  });

  it('does not retry when the sink itself fails', async () => {
    server = await startTestServer((_req, res) => res.end('data'));
    client = new OriginClient({ retry: fast });
    const diskFull = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    await expect(
      client.download(`${server.origin}/seg.ts`, async () => {
        throw diskFull;
      }),
    ).rejects.toBe(diskFull);
    expect(server.requests).toHaveLength(1);
  });

  it('throws a 404 without calling the sink', async () => {
    server = await startTestServer((_req, res) => {
      res.statusCode = 404;
      res.end('gone');
    });
    client = new OriginClient({ retry: fast });
    let called = false;
    await expect(
      client.download(`${server.origin}/seg.ts`, async () => {
        called = true;
      }),
    ).rejects.toMatchObject({ status: 404 });
    expect(called).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('drains a body the sink did not read, keeping the connection reusable', async () => {
    server = await startTestServer((_req, res) => res.end('some bytes'));
    client = new OriginClient({ retry: fast, connectionsPerOrigin: 1 });
    await client.download(`${server.origin}/a.ts`, async () => 'ignored');
    const second = await client.getText(`${server.origin}/b.m3u8`);
    expect(second.text).toBe('some bytes');
  });

  it('aborts a download in flight', async () => {
    server = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial'); // and never finishes
    });
    client = new OriginClient({ retry: fast, bodyTimeoutMs: 30_000 });
    const controller = new AbortController();
    let sinkStarted!: () => void;
    const started = new Promise<void>((resolve) => (sinkStarted = resolve));
    const pending = client.download(
      `${server.origin}/seg.ts`,
      async (body) => {
        sinkStarted();
        return readAll(body);
      },
      { signal: controller.signal },
    );
    await started;
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(server.requests).toHaveLength(1);
  });
});
