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
import { pino } from 'pino';
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

/** A dump running on `worker-a`, with a callbackUrl, and a notifier as that worker has it. */
async function runningDump() {
  const registry = new DumpRegistry(db.redis, { prefix: uniqueName('notify') });
  const outbox = new EventOutbox(db.redis, registry.keys);
  const notifier = new DumpNotifier({ outbox, logger: pino({ level: 'silent' }) });
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
  await registry.claim(dumpKey, runId, 'worker-a');
  await registry.markRunning(dumpKey, runId, 'worker-a');
  const record = (await registry.get(dumpKey))!;
  const hooks = notifier.hooks(record, { resumed: false });
  const finish = () => registry.finish(dumpKey, runId, 'worker-a', 'Completed', { progress });
  const delivered = async (): Promise<DumpNotification[]> => {
    const events: DumpNotification[] = [];
    for (;;) {
      const [next] = await outbox.claim(1, 5_000);
      if (!next) return events;
      events.push(JSON.parse(next.body) as DumpNotification);
      await outbox.ack(next);
    }
  };
  return { registry, notifier, hooks, finish, delivered };
}

describe('a dump’s end event when its worker dies in between', () => {
  it('the end recorded but never appended: a sweep appends it from the record, once', async () => {
    const { registry, notifier, hooks, finish, delivered } = await runningDump();
    hooks.running({ ...progress, status: 'Running' });
    hooks.ending();
    expect(await finish()).toBe('OK');
    // The worker died here: no hooks.ended(). Another worker's sweep:
    expect(await notifier.sweep(registry, 0)).toBe(1);
    expect(await notifier.sweep(registry, 0)).toBe(0);
    const events = await delivered();
    expect(events.map((e) => [e.sequence, e.type, e.status])).toEqual([
      [1, 'running', 'Running'],
      [2, 'completed', 'Completed'],
    ]);
    expect(events[1]).toMatchObject({ reason: 'stopped', counts: { segments: 3, files: 7 } });
  });

  it('told by its worker: the sweep adds nothing, and a late second telling is dropped', async () => {
    const { registry, notifier, hooks, finish, delivered } = await runningDump();
    hooks.ending();
    await finish();
    hooks.ended('Completed', progress);
    await notifier.flush();
    expect(await notifier.sweep(registry, 0)).toBe(0);
    hooks.ended('Completed', progress);
    await notifier.flush();
    expect((await delivered()).map((e) => e.type)).toEqual(['completed']);
  });

  it('a stretch lost at once is one gap event per rendition, told in order with the rest', async () => {
    const { registry, notifier, hooks, finish, delivered } = await runningDump();
    const running = { ...progress, status: 'Running' as const };
    // Found before the start was acknowledged: held until `running` is told.
    hooks.gap('v.m3u8', 10, 'no longer in the origin playlist window', running);
    hooks.running(running);
    for (const msn of [20, 21, 22])
      hooks.gap('v.m3u8', msn, 'no longer in the origin playlist window', running);
    for (const msn of [20, 21])
      hooks.gap('a.m3u8', msn, 'no longer in the origin playlist window', running);
    hooks.gap('v.m3u8', 23, 'could not be fetched: 404', running);
    await new Promise((resolve) => setImmediate(resolve));
    hooks.ending();
    await finish();
    hooks.ended('Completed', progress);
    await notifier.flush();
    expect(await notifier.sweep(registry, 0)).toBe(0);
    expect((await delivered()).map((e) => [e.sequence, e.type, e.gap])).toEqual([
      [1, 'running', undefined],
      [2, 'gap', { chunklist: 'v.m3u8', msn: 10, count: 1 }],
      [3, 'gap', { chunklist: 'v.m3u8', msn: 20, count: 3 }],
      [4, 'gap', { chunklist: 'a.m3u8', msn: 20, count: 2 }],
      [5, 'gap', { chunklist: 'v.m3u8', msn: 23, count: 1 }],
      [6, 'completed', undefined],
    ]);
  });
});
