import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventOutbox, registryKeys } from '@hlsdump/contracts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisPerFile } from '../../../test/support/redis-per-file.js';
import { uniqueName } from '../../../test/support/unique-name.js';
import { WebhookDeliverer } from './webhook-deliverer.js';

/**
 * The deliverer looks at the outbox only when something may be due there: with a cap far beyond
 * the test, a retry is still sent at its time (the outbox told when it is due), and an event
 * appended here is sent as soon as the deliverer is woken.
 */
describe('WebhookDeliverer', () => {
  const db = useRedisPerFile();
  let server: Server;
  let url: string;
  const received: string[] = [];
  let failNext = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (failNext > 0) {
          failNext--;
          response.writeHead(500).end();
          return;
        }
        received.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it('sends a retry when it is due and an appended event when woken, without polling', async () => {
    const outbox = new EventOutbox(db.redis, registryKeys(uniqueName('deliver')));
    const deliverer = new WebhookDeliverer({
      outbox,
      logger: pino({ level: 'silent' }),
      pollMs: 600_000,
      retryBaseMs: 200,
      retryMaxMs: 200,
    });
    const event = (type: string) => ({ type, time: new Date().toISOString() });
    failNext = 1;
    await outbox.enqueue('d1', event('running'), [url]);
    deliverer.start();
    // Refused once, then sent again after its backoff (100-200 ms): the outbox said when.
    await expect.poll(() => received.length, { timeout: 5_000 }).toBe(1);
    expect(failNext).toBe(0);

    // Nothing due now: the deliverer sleeps until woken.
    await outbox.enqueue('d1', event('completed'), [url]);
    deliverer.wake();
    await expect.poll(() => received.length, { timeout: 5_000 }).toBe(2);
    expect(received.map((body) => (JSON.parse(body) as { type: string }).type)).toEqual([
      'running',
      'completed',
    ]);
    await deliverer.close();
    expect(await outbox.pending()).toBe(0);
  });
});
