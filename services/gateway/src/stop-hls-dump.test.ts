import { join } from 'node:path';
import { dumpKeyOf, jobIdFor, newRunId } from '@hlsdump/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, startPath, stopPath, type Harness } from './gateway-harness.test-support.js';
import type { ProtocolWorker } from './protocol-worker.test-support.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ START_TIMEOUT_MS: '5000', STOP_TIMEOUT_MS: '1000' });
  h.origin.streams.add('/app/stream_o/llhls.m3u8');
  h.origin.streams.add('/app/multi/llhls.m3u8');
});
afterAll(async () => {
  await h?.close();
});

const keyOf = (outputStreamName: string, id: string) =>
  dumpKeyOf({ vhost: 'default', app: 'app', outputStreamName, id });

function expectError(
  res: { status: number; body: Record<string, unknown> },
  status: number,
  text: string,
) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ statusCode: status, message: `[HTTP] ${text} (${status})` });
}

describe('stop: validation', () => {
  it('400s without outputStreamName', async () => {
    expectError(await h.post(stopPath(), {}), 400, 'outputStreamName is required');
    expectError(await h.post(stopPath(), { id: 'x' }), 400, 'outputStreamName is required');
  });

  it('400s a non-object body and wrong field types', async () => {
    expectError(
      await h.post(stopPath(), undefined, { raw: '[]' }),
      400,
      'Request body must be a JSON object, not an array',
    );
    expectError(
      await h.post(stopPath(), { outputStreamName: 'stream_o', id: 7 }),
      400,
      'id must be a string',
    );
  });

  it('404s an unknown vhost or app', async () => {
    expectError(
      await h.post(stopPath('s', 'nope'), { outputStreamName: 'o' }),
      404,
      'Could not find the virtual host: [nope]',
    );
    expectError(
      await h.post(stopPath('s', 'default', 'nope'), { outputStreamName: 'o' }),
      404,
      'Could not find the application: [default/nope]',
    );
  });

  it('404s when no active dump matches', async () => {
    expectError(
      await h.post(stopPath(), { outputStreamName: 'nothing' }),
      404,
      'Could not find an active dump: [default/app/nothing]',
    );
    expectError(
      await h.post(stopPath(), { outputStreamName: 'stream_o', id: 'nope' }),
      404,
      'Could not find an active dump: [default/app/stream_o/nope]',
    );
  });
});

describe('stop: a Queued dump, no worker anywhere', () => {
  it('answers 200 at once, withdraws it, and the waiting start learns it will not run', async () => {
    const id = `queued-${newRunId()}`;
    const enqueued = new Promise<void>((resolve) =>
      h.gateway.queue.once('waiting', () => resolve()),
    );
    const start = h.post(startPath(), {
      outputStreamName: 'stream_o',
      id,
      outputPath: join(h.root, id),
    });
    await enqueued;
    const began = Date.now();
    const stop = await h.post(stopPath(), { outputStreamName: 'stream_o', id });
    expect(stop.status).toBe(200);
    expect(stop.body).toEqual({ statusCode: 200, message: 'OK', response: ['stream_o'] });
    expectError(await start, 503, 'The dump was stopped before a worker started it');
    // Well before the 5 s start timeout.
    expect(Date.now() - began).toBeLessThan(2_000);
    const record = await h.gateway.registry.get(keyOf('stream_o', id));
    expect(record).toMatchObject({ state: 'Withdrawn', stopRequested: true });
    expect(await h.gateway.queue.getJob(record?.jobId ?? '')).toBeUndefined();
    expect(await h.gateway.registry.isActive('default', 'app', 'stream_o', id)).toBe(false);
  });
});

describe('stop: an owner that never acknowledges', () => {
  it('503s after STOP_TIMEOUT_MS, with the stop recorded durably', async () => {
    const id = `ghost-${newRunId()}`;
    const dumpKey = keyOf('stream_o', id);
    const runId = newRunId();
    await h.gateway.registry.reserve({
      vhost: 'default',
      app: 'app',
      stream: 'stream',
      outputStreamName: 'stream_o',
      id,
      outputPath: join(h.root, id),
      playlists: ['llhls.m3u8'],
      originBaseUrl: 'http://x/',
      dumpKey,
      runId,
      jobId: jobIdFor(dumpKey, runId),
    });
    await h.gateway.registry.claim(dumpKey, runId, 'ghost-worker');
    await h.gateway.registry.markRunning(dumpKey, runId, 'ghost-worker');
    const began = Date.now();
    expectError(
      await h.post(stopPath(), { outputStreamName: 'stream_o', id }),
      503,
      'Stop recorded; the owning worker has not acknowledged yet',
    );
    expect(Date.now() - began).toBeGreaterThanOrEqual(950);
    expect(await h.gateway.registry.get(dumpKey)).toMatchObject({
      state: 'Running',
      stopRequested: true,
    });
    // Whoever finalizes it later releases it; here the "owner" does.
    await h.gateway.registry.finish(dumpKey, runId, 'ghost-worker', 'Completed');
  });
});

describe('stop: running dumps', () => {
  let worker: ProtocolWorker;
  beforeAll(async () => {
    worker = await h.startWorker('stop-worker');
  });
  afterAll(async () => {
    await worker?.close();
  });

  it('stops one dump by id once its owner acknowledged', async () => {
    const id = `run-${newRunId()}`;
    expect(
      (
        await h.post(startPath(), {
          outputStreamName: 'stream_o',
          id,
          outputPath: join(h.root, id),
        })
      ).status,
    ).toBe(200);
    const res = await h.post(stopPath(), { outputStreamName: 'stream_o', id });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ statusCode: 200, message: 'OK', response: ['stream_o'] });
    expect((await h.gateway.registry.get(keyOf('stream_o', id)))?.state).toBe('Completed');
    // Ended: the id can be used again at once.
    expect(
      (
        await h.post(startPath(), {
          outputStreamName: 'stream_o',
          id,
          outputPath: join(h.root, `${id}-2`),
        })
      ).status,
    ).toBe(200);
    expect((await h.post(stopPath(), { outputStreamName: 'stream_o', id })).status).toBe(200);
  });

  it('stops every active dump of the output stream without an id', async () => {
    const ids = ['m1', 'm2', 'm3'];
    for (const id of ids) {
      expect(
        (
          await h.post(startPath(), {
            outputStreamName: 'multi',
            id,
            outputPath: join(h.root, `multi-${id}`),
          })
        ).status,
      ).toBe(200);
    }
    expect(await h.gateway.registry.activeIds('default', 'app', 'multi')).toEqual(ids);
    const res = await h.post(stopPath(), { outputStreamName: 'multi' });
    expect(res.status).toBe(200);
    expect(res.body.response).toEqual(['multi']);
    for (const id of ids)
      expect((await h.gateway.registry.get(keyOf('multi', id)))?.state).toBe('Completed');
    expect(await h.gateway.registry.activeIds('default', 'app', 'multi')).toEqual([]);
    expectError(
      await h.post(stopPath(), { outputStreamName: 'multi' }),
      404,
      'Could not find an active dump: [default/app/multi]',
    );
  });
});
