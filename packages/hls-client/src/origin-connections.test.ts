import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginClient } from './origin-client.js';
import { OriginConnections } from './origin-connections.js';
import { startTestServer, type TestServer } from './http-server.test-support.js';

let server: TestServer | undefined;
const clients: OriginClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
});

/** A server that counts the connections it accepted and those still open. */
async function countingServer(handler: Parameters<typeof startTestServer>[0]) {
  const s = await startTestServer(handler);
  const counts = { accepted: 0, open: 0 };
  s.server.on('connection', (socket) => {
    counts.accepted++;
    counts.open++;
    socket.on('close', () => counts.open--);
  });
  return { s, counts };
}

/**
 * A counting server that holds every request for a `/held…` path (answered by the test through
 * `held`) and answers any other at once with an empty playlist.
 */
async function holdingServer() {
  const held: ServerResponse[] = [];
  const { s, counts } = await countingServer((req, res) => {
    if (req.url?.startsWith('/held')) held.push(res);
    else res.end('#EXTM3U\n');
  });
  return { s, counts, held };
}

function clientOn(connections: OriginConnections | undefined, headers?: Record<string, string>) {
  const client = new OriginClient({
    retry: { maxRetries: 0, retryDelayMs: 1, maxRetryDelayMs: 1, backoff: 'linear' },
    ...(connections ? { connections } : {}),
    ...(headers ? { headers } : {}),
  });
  clients.push(client);
  return client;
}

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Asks `url` with abandonOnAbort, waits until the origin holds it (`held`), then gives it up: the
 * caller is answered at once with the abort's reason.
 */
async function abandonHeld(client: OriginClient, url: string, held: () => boolean): Promise<void> {
  const controller = new AbortController();
  const pending = client.getText(url, { signal: controller.signal, abandonOnAbort: true });
  await until(held);
  const reason = new Error('the dump was stopped');
  controller.abort(reason);
  await expect(pending).rejects.toBe(reason);
}

describe('OriginConnections', () => {
  it("lets one client's idle connection carry another client's request, each with its own headers", async () => {
    const seen: (string | undefined)[] = [];
    const { s, counts } = await countingServer((req, res) => {
      seen.push(req.headers['x-app'] as string | undefined);
      res.end('#EXTM3U\n');
    });
    server = s;
    const connections = new OriginConnections();
    const a = clientOn(connections, { 'x-app': 'a' });
    const b = clientOn(connections, { 'x-app': 'b' });
    // undici hands a connection back to its pool a tick after the answer's end: the requests
    // here follow each other as a live stream's do, not within one tick.
    for (const [client, name] of [
      [a, 'a'],
      [b, 'b'],
      [a, 'a'],
    ] as const) {
      await client.getText(`${s.origin}/${name}.m3u8`);
      await new Promise((r) => setImmediate(r));
    }
    expect(seen).toEqual(['a', 'b', 'a']);
    expect(counts.accepted).toBe(1);

    // The same requests through clients of their own open a connection each.
    for (const client of [clientOn(undefined), clientOn(undefined)]) {
      await client.getText(`${s.origin}/c.m3u8`);
      await new Promise((r) => setImmediate(r));
    }
    expect(counts.accepted).toBe(3);
  });

  it("never makes a request wait for a connection another client's held request occupies", async () => {
    const { s, held } = await holdingServer();
    server = s;
    const connections = new OriginConnections();
    const holders = Array.from({ length: 20 }, () => clientOn(connections));
    const pending = holders.map((h, i) => h.getText(`${s.origin}/held-${i}.m3u8`));
    await until(() => held.length === 20);
    const answer = await clientOn(connections).getText(`${s.origin}/now.m3u8`);
    expect(answer.text).toBe('#EXTM3U\n');
    for (const res of held) res.end('#EXTM3U\n');
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual(Array(20).fill(200));
  });

  it("ends only the closing client's requests, and closes the connections with the last client", async () => {
    const { s, counts, held } = await holdingServer();
    server = s;
    const connections = new OriginConnections({ lingerMs: 0 });
    const a = clientOn(connections);
    const b = clientOn(connections);
    const heldA = a.getText(`${s.origin}/held-a.m3u8`);
    const heldB = b.getText(`${s.origin}/held-b.m3u8`);
    await until(() => held.length === 2);

    const closedA = a.close();
    await expect(heldA).rejects.toThrow(/closed/);
    await closedA;
    await expect(a.getText(`${s.origin}/x.m3u8`)).rejects.toThrow(/closed/);

    // b's held request still runs, and b still reaches the origin.
    expect((await b.getText(`${s.origin}/y.m3u8`)).text).toBe('#EXTM3U\n');
    held[1]!.end('#EXTM3U\nheld-b\n');
    expect((await heldB).text).toBe('#EXTM3U\nheld-b\n');
    expect(counts.open).toBeGreaterThan(0);

    await b.close();
    await until(() => counts.open === 0);

    // A client after that opens connections afresh.
    const c = clientOn(connections);
    const accepted = counts.accepted;
    expect((await c.getText(`${s.origin}/z.m3u8`)).status).toBe(200);
    expect(counts.accepted).toBe(accepted + 1);
  });

  it('keeps the connections a while after their last client left, for the next one', async () => {
    const { s, counts } = await countingServer((_req, res) => res.end('#EXTM3U\n'));
    server = s;
    const connections = new OriginConnections({ lingerMs: 300 });
    const a = clientOn(connections);
    await a.getText(`${s.origin}/a.m3u8`);
    await a.close();
    await new Promise((r) => setImmediate(r));
    const b = clientOn(connections);
    expect((await b.getText(`${s.origin}/b.m3u8`)).status).toBe(200);
    expect(counts).toEqual({ accepted: 1, open: 1 });

    await b.close();
    expect(counts.open).toBe(1);
    await until(() => counts.open === 0);
  });

  it('keeps the connection of a held request its caller gave up on, for the next request', async () => {
    const { s, counts, held } = await holdingServer();
    server = s;
    const connections = new OriginConnections();
    const a = clientOn(connections);
    const b = clientOn(connections);
    await abandonHeld(a, `${s.origin}/held-a.m3u8`, () => held.length === 1);

    // a's close does not wait for it, and it still runs: nothing closed its connection.
    await a.close();
    expect(counts.open).toBe(1);
    held[0]!.end('#EXTM3U\nnobody reads this\n');
    // As a live stream's next request comes: not within the tick the answer ends in.
    await new Promise((r) => setTimeout(r, 200));
    expect((await b.getText(`${s.origin}/next.m3u8`)).text).toBe('#EXTM3U\n');
    expect(counts.accepted).toBe(1);

    // Without abandonOnAbort the abort closes the connection under the request. Which
    // connection carries it is undici's choice (the idle one may not be back in the pool yet),
    // so the check is on the socket the origin received this request on.
    const cut = new AbortController();
    const heldB = b.getText(`${s.origin}/held-b.m3u8`, { signal: cut.signal });
    await until(() => held.length === 2);
    const heldSocket = held[1]!.req.socket;
    const reason = new Error('the dump was stopped');
    cut.abort(reason);
    await expect(heldB).rejects.toBe(reason);
    await until(() => heldSocket.destroyed);
  });

  it('ends abandoned requests when the connections close: on the last client of shared ones, on the close of a client with its own', async () => {
    const { s, counts, held } = await holdingServer();
    server = s;
    for (const connections of [new OriginConnections({ lingerMs: 100 }), undefined]) {
      const client = clientOn(connections);
      await abandonHeld(client, `${s.origin}/held.m3u8`, () => counts.open === 1);
      expect(counts.open).toBe(1);
      await client.close();
      await until(() => counts.open === 0);
    }
    expect(held).toHaveLength(2);
  });

  it('ends an abandoned request the origin holds past abandonedLimitMs', async () => {
    const { s, counts, held } = await holdingServer();
    server = s;
    const client = clientOn(new OriginConnections({ abandonedLimitMs: 300 }));
    await abandonHeld(client, `${s.origin}/held.m3u8`, () => counts.open === 1);
    // The client stays open: only the limit ends the request, and its connection with it.
    await until(() => counts.open === 0);
    expect(held).toHaveLength(1);
  });

  it('keeps clients that trust other certificates on connections of their own', async () => {
    const { s, counts } = await countingServer((_req, res) => res.end('#EXTM3U\n'));
    server = s;
    const connections = new OriginConnections();
    const plain = clientOn(connections);
    const withCa = new OriginClient({ connections, ca: 'not a certificate, unused over http' });
    clients.push(withCa);
    for (const client of [plain, withCa, plain, withCa]) {
      await client.getText(`${s.origin}/a.m3u8`);
      await new Promise((r) => setImmediate(r));
    }
    expect(counts.accepted).toBe(2);
  });
});
