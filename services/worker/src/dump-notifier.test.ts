import {
  DumpRegistry,
  EventOutbox,
  dumpKeyOf,
  jobIdFor,
  newRunId,
  type DumpNotification,
} from '@hlsdump/contracts';
import { useRedisPerFile } from '../../../test/support/redis-per-file.js';
import { uniqueName } from '../../../test/support/unique-name.js';
import { describe, expect, it } from 'vitest';
import { DumpNotifier } from './dump-notifier.js';

const db = useRedisPerFile();

const progress = {
  status: 'Completed' as const,
  renditions: [{ chunklist: 'c.m3u8', segments: 3, bytes: 300, gaps: 0 }],
  filesWritten: 7,
  bytesWritten: 300,
  gaps: 0,
  notices: [],
  endReason: 'stopped',
};
const running = { ...progress, status: 'Running' as const };
const WINDOW = 'no longer in the origin playlist window';

/**
 * A dump claimed by `worker-a` (not acknowledged yet), with a callbackUrl, and the notifier's
 * hooks for its run as that worker has them; `delivered` drains the outbox as a deliverer would.
 */
async function claimedDump() {
  const registry = new DumpRegistry(db.redis, { prefix: uniqueName('notify') });
  const outbox = new EventOutbox(db.redis, registry.keys);
  const notifier = new DumpNotifier();
  const params = {
    vhost: 'default',
    app: 'app',
    stream: 's',
    outputStreamName: 's',
    id: 'd',
    outputPath: '/out/d',
    playlists: ['llhls.m3u8'],
    originBaseUrl: 'http://origin/app/s/',
    callbackUrl: 'http://hooks.test/cb',
  };
  const dumpKey = dumpKeyOf(params);
  const runId = newRunId();
  await registry.reserve({ ...params, dumpKey, runId, jobId: jobIdFor(dumpKey, runId) });
  const claim = await registry.claim(dumpKey, runId, 'worker-a');
  if (!claim.ok) throw new Error('not claimed');
  const hooks = notifier.hooks(claim.record);
  const delivered = async (): Promise<DumpNotification[]> => {
    const events: DumpNotification[] = [];
    for (;;) {
      const [next] = await outbox.claim(1, 5_000);
      if (!next) return events;
      events.push(JSON.parse(next.body) as DumpNotification);
      await outbox.ack(next);
    }
  };
  const summary = async () => (await delivered()).map((e) => [e.sequence, e.type, e.gap] as const);
  return { registry, notifier, hooks, dumpKey, runId, delivered, summary };
}

describe('dump events ride on the registry writes that make them true', () => {
  it('running with markRunning, each gap with its checkpoint, the end with finish; in order', async () => {
    const { registry, hooks, dumpKey, runId, summary } = await claimedDump();
    // Found while starting and saved in a checkpoint: held in the record until `running`.
    hooks.gap('v.m3u8', 10, WINDOW, running);
    const early = hooks.pending();
    expect(await registry.saveCheckpoint(dumpKey, runId, 'worker-a', {}, early)).toBe(true);
    hooks.recorded(early);
    expect(await summary()).toEqual([]);
    const marking = hooks.running(running);
    expect((await registry.markRunning(dumpKey, runId, 'worker-a', marking)).outcome).toBe('OK');
    hooks.recorded(marking);
    // A stretch lost at once is one event per rendition.
    for (const msn of [20, 21, 22]) hooks.gap('v.m3u8', msn, WINDOW, running);
    for (const msn of [20, 21]) hooks.gap('a.m3u8', msn, WINDOW, running);
    hooks.gap('v.m3u8', 23, 'could not be fetched: 404', running);
    const gaps = hooks.pending();
    expect(await registry.saveCheckpoint(dumpKey, runId, 'worker-a', {}, gaps)).toBe(true);
    hooks.recorded(gaps);
    const end = hooks.ending('Completed', progress);
    expect(await registry.finish(dumpKey, runId, 'worker-a', 'Completed', { events: end! })).toBe(
      'OK',
    );
    hooks.recorded(end);
    expect(await summary()).toEqual([
      [1, 'running', undefined],
      [2, 'gap', { chunklist: 'v.m3u8', msn: 10, count: 1 }],
      [3, 'gap', { chunklist: 'v.m3u8', msn: 20, count: 3 }],
      [4, 'gap', { chunklist: 'a.m3u8', msn: 20, count: 2 }],
      [5, 'gap', { chunklist: 'v.m3u8', msn: 23, count: 1 }],
      [6, 'completed', undefined],
    ]);
  });

  it('a write whose reply was lost: its gaps go again with the next one, appended once', async () => {
    const { registry, hooks, dumpKey, runId, summary } = await claimedDump();
    const marking = hooks.running(running);
    await registry.markRunning(dumpKey, runId, 'worker-a', marking);
    hooks.recorded(marking);
    hooks.gap('v.m3u8', 5, WINDOW, running);
    // Recorded in Redis, but the worker never heard back: the gap stays pending.
    expect(await registry.saveCheckpoint(dumpKey, runId, 'worker-a', {}, hooks.pending())).toBe(
      true,
    );
    // Another gap of the same rendition, adjacent: the first one went out already, so it is not
    // merged into it (that would change an event already recorded).
    hooks.gap('v.m3u8', 6, WINDOW, running);
    const again = hooks.pending();
    expect(again?.events).toHaveLength(2);
    expect(await registry.saveCheckpoint(dumpKey, runId, 'worker-a', {}, again)).toBe(true);
    hooks.recorded(again);
    expect(hooks.pending()).toBeUndefined();
    expect(await summary()).toEqual([
      [1, 'running', undefined],
      [2, 'gap', { chunklist: 'v.m3u8', msn: 5, count: 1 }],
      [3, 'gap', { chunklist: 'v.m3u8', msn: 6, count: 1 }],
    ]);
  });

  it('a write refused to a former owner appends nothing; its successor tells no second running', async () => {
    const { registry, notifier, hooks, dumpKey, runId, summary } = await claimedDump();
    const marking = hooks.running(running);
    await registry.markRunning(dumpKey, runId, 'worker-a', marking);
    hooks.recorded(marking);
    // worker-a stops heartbeating; worker-b takes the dump over.
    await db.redis.hset(registry.keys.dump(dumpKey), 'heartbeatAt', '0');
    const takeover = await registry.claim(dumpKey, runId, 'worker-b', 1_000);
    if (!takeover.ok) throw new Error('no takeover');
    hooks.gap('v.m3u8', 7, WINDOW, running);
    expect(await registry.saveCheckpoint(dumpKey, runId, 'worker-a', {}, hooks.pending())).toBe(
      false,
    );
    const successor = notifier.hooks(takeover.record);
    const resumed = successor.running(running);
    expect(resumed).toBeUndefined();
    await registry.markRunning(dumpKey, runId, 'worker-b', resumed);
    // The successor meets the gap again (it resumes from the checkpoint before it) and tells it.
    successor.gap('v.m3u8', 7, WINDOW, running);
    const gaps = successor.pending();
    expect(await registry.saveCheckpoint(dumpKey, runId, 'worker-b', {}, gaps)).toBe(true);
    successor.recorded(gaps);
    const end = successor.ending('Completed', progress);
    await registry.finish(dumpKey, runId, 'worker-b', 'Completed', { events: end! });
    // Finished twice (a retried reply): the end is told once.
    expect(await registry.finish(dumpKey, runId, 'worker-b', 'Completed', { events: end! })).toBe(
      'ALREADY',
    );
    expect(await summary()).toEqual([
      [1, 'running', undefined],
      [2, 'gap', { chunklist: 'v.m3u8', msn: 7, count: 1 }],
      [3, 'completed', undefined],
    ]);
  });

  it('a start that fails tells its held gaps, then the error; a withdrawn one tells nothing', async () => {
    const failed = await claimedDump();
    failed.hooks.gap('v.m3u8', 1, WINDOW, running);
    const early = failed.hooks.pending();
    await failed.registry.saveCheckpoint(failed.dumpKey, failed.runId, 'worker-a', {}, early);
    failed.hooks.recorded(early);
    const error = { code: 'ORIGIN_GONE', message: 'gone' };
    const end = failed.hooks.ending('Error', undefined, error);
    await failed.registry.finish(failed.dumpKey, failed.runId, 'worker-a', 'Error', {
      error,
      events: end!,
    });
    expect(await failed.summary()).toEqual([
      [1, 'gap', { chunklist: 'v.m3u8', msn: 1, count: 1 }],
      [2, 'error', undefined],
    ]);

    const withdrawn = await claimedDump();
    withdrawn.hooks.gap('v.m3u8', 1, WINDOW, running);
    const held = withdrawn.hooks.pending();
    await withdrawn.registry.saveCheckpoint(
      withdrawn.dumpKey,
      withdrawn.runId,
      'worker-a',
      {},
      held,
    );
    await withdrawn.registry.finish(withdrawn.dumpKey, withdrawn.runId, 'worker-a', 'Withdrawn');
    expect(await withdrawn.summary()).toEqual([]);
    expect(await db.redis.hget(withdrawn.registry.keys.dump(withdrawn.dumpKey), 'heldEvents')).toBe(
      null,
    );
  });
});
