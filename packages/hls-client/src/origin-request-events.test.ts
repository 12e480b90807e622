import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './http-server.test-support.js';
import { OriginClient, type OriginRequestEvent } from './origin-client.js';
import type { RetryPolicy } from './retry-policy.js';

const FAST_RETRY: RetryPolicy = {
  maxRetries: 3,
  retryDelayMs: 5,
  maxRetryDelayMs: 10,
  backoff: 'exponential',
};

/** `onRequest` reports every exchange with the origin, over real HTTP: statuses and failures. */
describe('OriginClient onRequest', () => {
  let server: TestServer;
  let flaky = 0;

  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      if (req.url === '/ok') return void res.end('fine');
      if (req.url === '/moved') return void res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/flaky') {
        if (flaky++ < 2) return void res.writeHead(503).end();
        return void res.end('back');
      }
      if (req.url === '/stall') return; // never answers
      res.writeHead(404).end();
    });
  });
  afterAll(() => server.close());

  function client(options: ConstructorParameters<typeof OriginClient>[0] = {}) {
    const events: OriginRequestEvent[] = [];
    const origin = new OriginClient({
      retry: FAST_RETRY,
      ...options,
      onRequest: (event) => events.push(event),
    });
    return {
      origin,
      events,
      outcomes: () => events.map((e) => ('status' in e ? e.status : e.failure)),
    };
  }

  it('reports each status, each redirect hop and each retried attempt', async () => {
    const { origin, outcomes, events } = client();
    await origin.getText(`${server.origin}/ok`);
    await origin.getText(`${server.origin}/moved`);
    await expect(origin.getText(`${server.origin}/missing`)).rejects.toThrow(/404/);
    expect(await origin.getText(`${server.origin}/flaky`)).toMatchObject({ text: 'back' });
    expect(outcomes()).toEqual([200, 302, 200, 404, 503, 503, 200]);
    expect(events[2]).toEqual({ url: `${server.origin}/ok`, status: 200 });
    await origin.close();
  });

  it('reports a timeout, a refused connection and an abort as such', async () => {
    const { origin, outcomes } = client({
      headersTimeoutMs: 100,
      retry: { ...FAST_RETRY, maxRetries: 0 },
    });
    await expect(origin.getText(`${server.origin}/stall`)).rejects.toThrow(/timed out/);
    const closed = await startTestServer(() => {});
    const refusedUrl = `${closed.origin}/gone`;
    await closed.close();
    await expect(origin.getText(refusedUrl)).rejects.toThrow();
    const abort = new AbortController();
    const pending = origin.getText(`${server.origin}/stall`, {
      signal: abort.signal,
      headersTimeoutMs: 5_000,
    });
    setTimeout(() => abort.abort(new Error('stop')), 20);
    await expect(pending).rejects.toThrow('stop');
    expect(outcomes()).toEqual(['timeout', 'network', 'aborted']);
    await origin.close();
  });
});
