import { afterEach, describe, expect, it } from 'vitest';
import type { RenditionDetails } from './rendition-details.js';
import { OriginClient } from './origin-client.js';
import { OriginUnreachableError, StreamGoneError } from './origin-errors.js';
import { RenditionLoader, withBlockingParams } from './playlist-loader.js';
import type { RetryPolicy } from './retry-policy.js';
import { startTestServer } from './http-server.test-support.js';
import type { TestServer } from './http-server.test-support.js';
import { LiveOrigin } from './live-origin.test-support.js';

const fast: RetryPolicy = {
  maxRetries: 3,
  retryDelayMs: 10,
  maxRetryDelayMs: 50,
  backoff: 'exponential',
};
const roomy = { goneAfterMs: 5_000, unreachableAfterMs: 5_000 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function newClient(): OriginClient {
  const client = new OriginClient({ retry: fast });
  cleanups.push(() => client.close());
  return client;
}

async function serve(handler: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const server = await startTestServer(handler);
  cleanups.push(() => server.close());
  return server;
}

/** Runs the loader to completion and returns, per yield, the msns that were new. */
async function collect(
  loader: RenditionLoader,
): Promise<{ yields: RenditionDetails[]; newMsns: number[][] }> {
  const yields: RenditionDetails[] = [];
  const newMsns: number[][] = [];
  for await (const details of loader.updates()) {
    newMsns.push(details.reloaded(yields[yields.length - 1]).newSegments.map((s) => s.msn));
    yields.push(details);
  }
  return { yields, newMsns };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_v, i) => from + i);

describe('RenditionLoader with CAN-BLOCK-RELOAD', () => {
  async function blockingRun(blockFor?: 'segment' | 'part') {
    const origin = await new LiveOrigin({
      lowLatency: true,
      tickMs: 30,
      partsPerSegment: 4,
      initialSegments: 2,
      endAfterSegments: 8,
    }).start();
    cleanups.push(() => origin.stop());
    const loader = new RenditionLoader(newClient(), origin.url, {
      signal: new AbortController().signal,
      limits: roomy,
      retry: fast,
      ...(blockFor ? { blockFor } : {}),
    });
    const { yields, newMsns } = await collect(loader);
    expect(newMsns.flat()).toEqual(range(0, 7));
    expect(newMsns[0]).toEqual([0, 1]);
    for (const msns of newMsns.slice(1, -1)) expect(msns.length).toBeGreaterThan(0);
    expect(yields[yields.length - 1]!.endList).toBe(true);
    const blocking = origin.server.requests.filter((r) => r.url.includes('_HLS_msn='));
    expect(blocking.length).toBeGreaterThan(0);
    // the original query survives, and the directives are the last thing on the URL
    for (const r of blocking)
      expect(r.url).toMatch(
        /^\/app\/stream\/chunklist\.m3u8\?session=s1&_HLS_msn=\d+(&_HLS_part=\d+)?$/,
      );
    return { requests: origin.server.requests, blocking };
  }

  it('by default blocks for each next complete segment (_HLS_msn alone): one reload a segment', async () => {
    const { requests, blocking } = await blockingRun();
    expect(blocking.some((r) => r.url.includes('_HLS_part'))).toBe(false);
    // six new segments after the first load, give or take one: no reload per part
    expect(requests.length).toBeLessThanOrEqual(9);
  });

  it('with blockFor part, follows every part (_HLS_msn and _HLS_part)', async () => {
    const { requests, blocking } = await blockingRun('part');
    expect(blocking.some((r) => /_HLS_part=\d+/.test(r.url))).toBe(true);
    // one request per part (24) plus the first load, give or take: no polling storm
    expect(requests.length).toBeLessThan(40);
    expect(requests.length).toBeGreaterThan(15);
  });

  it('backs off when a blocking request comes back unchanged instead of spinning', async () => {
    let ended = false;
    const playlist = (): string =>
      [
        '#EXTM3U',
        '#EXT-X-TARGETDURATION:1',
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES',
        '#EXT-X-MEDIA-SEQUENCE:5',
        '#EXTINF:1,',
        'seg5.ts',
        ...(ended ? ['#EXTINF:1,', 'seg6.ts', '#EXT-X-ENDLIST'] : []),
      ].join('\n');
    // an origin that advertises blocking but answers at once with the same playlist
    const server = await serve((_req, res) => res.end(playlist()));
    const timer = setTimeout(() => (ended = true), 1_200);
    cleanups.push(async () => clearTimeout(timer));

    const loader = new RenditionLoader(newClient(), `${server.origin}/live.m3u8`, {
      signal: new AbortController().signal,
      limits: roomy,
      retry: fast,
    });
    const { newMsns } = await collect(loader);

    expect(newMsns).toEqual([[5], [6]]);
    // half a target duration (500 ms) between unchanged answers: a handful, not hundreds
    expect(server.requests.length).toBeLessThanOrEqual(6);
    expect(server.requests.slice(1).every((r) => r.url.includes('_HLS_msn=6'))).toBe(true);
  });

  it('falls back to a plain reload when the origin rejects the directive with 400', async () => {
    let restarted = false;
    const server = await serve((req, res) => {
      const blocking = req.url?.includes('_HLS_msn') ?? false;
      if (!restarted) {
        restarted = true;
        res.end(
          '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n#EXT-X-MEDIA-SEQUENCE:100\n#EXTINF:1,\ns100.ts\n',
        );
        return;
      }
      if (blocking) {
        res.statusCode = 400; // msn 101 is far ahead of the restarted stream
        res.end();
        return;
      }
      res.end(
        '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1,\ns0.ts\n#EXT-X-ENDLIST\n',
      );
    });
    const loader = new RenditionLoader(newClient(), `${server.origin}/live.m3u8`, {
      signal: new AbortController().signal,
      limits: roomy,
      retry: fast,
    });
    const { newMsns } = await collect(loader);
    expect(newMsns).toEqual([[100], [0]]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/live.m3u8',
      '/live.m3u8?_HLS_msn=101',
      '/live.m3u8',
    ]);
  });

  it('aborts a held blocking request at once', async () => {
    const origin = await new LiveOrigin({ lowLatency: true, tickMs: 60_000 }).start();
    cleanups.push(() => origin.stop());
    const controller = new AbortController();
    const loader = new RenditionLoader(newClient(), origin.url, {
      signal: controller.signal,
      limits: roomy,
      retry: fast,
    });
    const updates = loader.updates();
    const first = await updates.next();
    expect(first.done).toBe(false);
    const pending = updates.next();
    // wait until the blocking request is actually held by the server
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (origin.server.requests.some((r) => r.url.includes('_HLS_msn'))) resolve();
        else origin.server.server.once('request', () => setImmediate(check));
      };
      check();
    });
    const reason = new Error('stop recording');
    const t0 = performance.now();
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('leaves the connection of a held blocking request it gave up on open: the origin answers it, and the next request reuses it', async () => {
    const origin = await new LiveOrigin({ lowLatency: true, tickMs: 400 }).start();
    cleanups.push(() => origin.stop());
    const sockets = { accepted: 0, closed: 0 };
    origin.server.server.on('connection', (socket) => {
      sockets.accepted++;
      socket.on('close', () => sockets.closed++);
    });
    let answered = 0;
    origin.server.server.on('request', (_req, res) => res.on('finish', () => answered++));
    const client = newClient();
    const controller = new AbortController();
    const updates = new RenditionLoader(client, origin.url, {
      signal: controller.signal,
      limits: roomy,
      retry: fast,
    }).updates();
    await updates.next();
    const pending = updates.next();
    await until(() => origin.server.requests.some((r) => r.url.includes('_HLS_msn')));
    // (The first load's connection goes back to the pool a tick after its answer: the held
    // request, asked at once, may have opened a second one.)
    const accepted = sockets.accepted;
    controller.abort(new Error('stop recording'));
    await expect(pending).rejects.toThrow('stop recording');

    // The origin answers the held request when its segment is complete, on the open connection.
    await until(() => answered === 2);
    expect(origin.server.requests).toHaveLength(2);
    expect(sockets).toEqual({ accepted, closed: 0 });
    await new Promise((r) => setTimeout(r, 200));
    const next = await new RenditionLoader(client, origin.url, {
      signal: new AbortController().signal,
      limits: roomy,
      retry: fast,
    })
      .updates()
      .next();
    expect(next.done).toBe(false);
    expect(sockets).toEqual({ accepted, closed: 0 });
  });
});

describe('RenditionLoader without blocking reload', () => {
  it('reloads on an interval and yields each new segment', async () => {
    const origin = await new LiveOrigin({
      lowLatency: false,
      tickMs: 500,
      initialSegments: 2,
      endAfterSegments: 5,
    }).start();
    cleanups.push(() => origin.stop());
    const loader = new RenditionLoader(newClient(), origin.url, {
      signal: new AbortController().signal,
      limits: roomy,
      retry: fast,
    });

    const { yields, newMsns } = await collect(loader);

    expect(newMsns.flat()).toEqual(range(0, 4));
    expect(yields[yields.length - 1]!.endList).toBe(true);
    const requests = origin.server.requests;
    expect(requests.every((r) => !r.url.includes('_HLS_'))).toBe(true);
    // reloads are spaced by (half) a target duration / the last segment's 0.5 s, never hammered
    for (let i = 1; i < requests.length; i++)
      expect(requests[i]!.at - requests[i - 1]!.at).toBeGreaterThan(400);
    expect(requests.length).toBeLessThanOrEqual(8);
  });
});

describe('RenditionLoader failures', () => {
  it('throws StreamGoneError when the playlist stays 404 past goneAfterMs', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    const loader = new RenditionLoader(newClient(), `${server.origin}/live.m3u8`, {
      signal: new AbortController().signal,
      limits: { goneAfterMs: 300, unreachableAfterMs: 5_000 },
      retry: fast,
    });
    const t0 = performance.now();
    const error = await collect(loader).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamGoneError);
    expect(error).toMatchObject({ code: 'STREAM_GONE', url: `${server.origin}/live.m3u8` });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(server.requests.length).toBeGreaterThan(3);
  });

  it('waits out a 404 while the stream is starting', async () => {
    let n = 0;
    const server = await serve((_req, res) => {
      n++;
      if (n <= 3) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.end('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n');
    });
    const loader = new RenditionLoader(newClient(), `${server.origin}/live.m3u8`, {
      signal: new AbortController().signal,
      limits: roomy,
      retry: fast,
    });
    const { newMsns } = await collect(loader);
    expect(newMsns).toEqual([[0]]);
    expect(server.requests).toHaveLength(4);
  });

  it('throws OriginUnreachableError when 5xx lasts past unreachableAfterMs', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const loader = new RenditionLoader(newClient(), `${server.origin}/live.m3u8`, {
      signal: new AbortController().signal,
      limits: { goneAfterMs: 5_000, unreachableAfterMs: 300 },
      retry: fast,
    });
    const error = await collect(loader).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OriginUnreachableError);
    expect(error).toMatchObject({ code: 'ORIGIN_UNREACHABLE' });
  });

  it('does not count the time its consumer spent on an update against unreachableAfterMs', async () => {
    let fakeNow = 0;
    let n = 0;
    const server = await serve((_req, res) => {
      n++;
      if (n === 2) {
        // One failed reload, right after a consumer that took far longer than the limit.
        res.statusCode = 503;
        res.end();
        return;
      }
      res.end(
        ['#EXTM3U', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:0']
          .concat(Array.from({ length: n }, (_, i) => [`#EXTINF:1,`, `s${i}.ts`]).flat())
          .concat(n >= 4 ? ['#EXT-X-ENDLIST'] : [])
          .join('\n'),
      );
    });
    const loader = new RenditionLoader(newClient(), `${server.origin}/live.m3u8`, {
      signal: new AbortController().signal,
      limits: { goneAfterMs: 1_000, unreachableAfterMs: 1_000 },
      retry: fast,
      now: () => fakeNow,
    });
    const seen: number[] = [];
    for await (const details of loader.updates()) {
      seen.push(details.endSn);
      fakeNow += 5_000; // the consumer took five times the limit
    }
    expect(seen).toEqual([0, 2, 3]);
  });

  it('uses the injected clock for its limits', async () => {
    let fakeNow = 0;
    const server = await serve((_req, res) => {
      fakeNow += 1_000; // each failed request "takes" a second
      res.statusCode = 404;
      res.end();
    });
    const loader = new RenditionLoader(newClient(), `${server.origin}/live.m3u8`, {
      signal: new AbortController().signal,
      limits: { goneAfterMs: 3_000, unreachableAfterMs: 3_000 },
      retry: fast,
      now: () => fakeNow,
    });
    await expect(collect(loader)).rejects.toBeInstanceOf(StreamGoneError);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a 403', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 403;
      res.end();
    });
    const loader = new RenditionLoader(newClient(), `${server.origin}/live.m3u8`, {
      signal: new AbortController().signal,
      limits: roomy,
      retry: fast,
    });
    await expect(collect(loader)).rejects.toMatchObject({ status: 403 });
    expect(server.requests).toHaveLength(1);
  });
});

describe('withBlockingParams', () => {
  it('appends directives after the existing query, replacing old ones', () => {
    expect(withBlockingParams('http://o/a.m3u8', { msn: 5 })).toBe('http://o/a.m3u8?_HLS_msn=5');
    expect(withBlockingParams('http://o/a.m3u8?t=a%20b', { msn: 5, part: 2 })).toBe(
      'http://o/a.m3u8?t=a%20b&_HLS_msn=5&_HLS_part=2',
    );
    expect(
      withBlockingParams('http://o/a.m3u8?_HLS_msn=1&t=x&_HLS_part=0', { msn: 7, part: 0 }),
    ).toBe('http://o/a.m3u8?t=x&_HLS_msn=7&_HLS_part=0');
  });
});
