import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamNotFoundError } from './errors.js';
import { httpOriginProbe } from './origin-probe.js';

describe('probes of one master in flight at once share its GET', () => {
  let server: Server;
  let baseUrl: string;
  const gets: string[] = [];
  beforeAll(async () => {
    // An origin that takes 200 ms to answer: long enough for the probes below to overlap.
    server = createServer((req, res) => {
      gets.push(`${req.url} ${req.headers['x-app'] ?? ''}`);
      setTimeout(() => {
        res.statusCode = req.url?.startsWith('/missing/') ? 404 : 200;
        res.end('#EXTM3U\n');
      }, 200);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  const probe = httpOriginProbe(5_000);

  it('one GET answers every probe of the same master, headers and CA while it is in flight', async () => {
    gets.length = 0;
    const url = `${baseUrl}/live/s/llhls.m3u8`;
    await Promise.all(Array.from({ length: 5 }, () => probe(url, 'default/live/s')));
    expect(gets).toEqual(['/live/s/llhls.m3u8 ']);
    // Nothing is remembered once it is answered: the next probe asks the origin again.
    await probe(url, 'default/live/s');
    expect(gets).toHaveLength(2);
  });

  it('other masters, or other headers, get GETs of their own', async () => {
    gets.length = 0;
    await Promise.all([
      probe(`${baseUrl}/live/a/llhls.m3u8`, 'default/live/a'),
      probe(`${baseUrl}/live/b/llhls.m3u8`, 'default/live/b'),
      probe(`${baseUrl}/live/a/llhls.m3u8`, 'default/live/a', { headers: { 'x-app': 'other' } }),
    ]);
    expect(gets.sort()).toEqual([
      '/live/a/llhls.m3u8 ',
      '/live/a/llhls.m3u8 other',
      '/live/b/llhls.m3u8 ',
    ]);
  });

  it('a shared 404 names each start’s own stream', async () => {
    gets.length = 0;
    const url = `${baseUrl}/missing/s/llhls.m3u8`;
    const [first, second] = await Promise.allSettled([
      probe(url, 'default/missing/s'),
      probe(url, 'other/missing/s'),
    ]);
    expect(gets).toHaveLength(1);
    expect(first.status === 'rejected' && first.reason).toBeInstanceOf(StreamNotFoundError);
    expect(second.status === 'rejected' && (second.reason as Error).message).toContain(
      'other/missing/s',
    );
  });
});
