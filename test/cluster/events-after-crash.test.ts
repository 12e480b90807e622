import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { verifyWebhook, type DumpNotification } from '@hlsdump/contracts';
import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import {
  originsFor,
  startCluster,
  type Cluster,
  type ClusterWorker,
  type DumpStatusBody,
  type StartedDump,
} from '../support/cluster.js';
import { dumpStatus, segmentsPerRendition, waitForSegments } from '../support/dump-progress.js';
import { waitFor } from '../support/wait-for.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'crash-events-secret';

/**
 * At least once, across the worst moment: a worker SIGKILLed right after the registry recorded a
 * state change (the test-only fault TEST_CRASH_AFTER_EVENT), before it could do anything else.
 * The change's event was recorded with it, so a real HTTP receiver still gets it, from another
 * worker's deliverer, in order and signed; the new owner tells no second copy.
 */
describe('an event survives its worker dying right after the change it tells', () => {
  let origin: TestOrigin;
  let receiver: WebhookReceiver;
  let cluster: Cluster;

  beforeEach(async () => {
    origin = await createTestOrigin({ speed: 2 });
    receiver = await WebhookReceiver.start();
    // No worker yet: each test starts the one that dies, then the one that takes over.
    cluster = await startCluster({
      workers: 0,
      origins: originsFor(origin.url),
      gatewayEnv: { CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}` },
      workerEnv: { WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_BASE_MS: '200' },
    });
  });
  afterEach(async () => {
    await cluster?.close();
    await receiver?.stop();
    await origin?.close();
  });

  const statusOf = async (d: StartedDump): Promise<DumpStatusBody> =>
    (await dumpStatus(cluster, d))!;
  const advance = async (dump: StartedDump, by: number): Promise<void> => {
    const target = segmentsPerRendition(await dumpStatus(cluster, dump)) + by;
    await waitForSegments(cluster, dump, target, { timeoutMs: 30_000 });
  };

  /** The victim died of the fault, after recording `type`; a clean worker takes the dump over. */
  async function failOver(victim: ClusterWorker, dump: StartedDump, type: string): Promise<void> {
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect(victim.output()).toContain(`after recording ${type} of ${dump.stream}`);
    const successor = await cluster.addWorker();
    await waitFor(
      `${successor.id} to run ${dump.id}`,
      async () => {
        const s = await statusOf(dump);
        return s.owner === successor.id && s.status === 'Running';
      },
      { timeoutMs: 30_000, details: () => cluster.logs(4000) },
    );
  }

  /** The dump's events as the receiver acknowledged them; every request signed, none out of order. */
  async function eventsOf(dump: StartedDump): Promise<DumpNotification[]> {
    const path = `/cb/${dump.id}`;
    await receiver.until(
      (requests) => requests.some((r) => r.path === path && r.body.includes('"completed"')),
      60_000,
    );
    const requests = receiver.requests.filter((r) => r.path === path);
    for (const request of requests) {
      const check = verifyWebhook(
        SECRET,
        request.headers['x-hlsdump-signature'] as string,
        request.body,
        { nowSeconds: request.at / 1000, toleranceSeconds: 30 },
      );
      expect(check, request.body).toEqual({ ok: true, t: expect.any(Number) });
    }
    const sent = requests.map((r) => (JSON.parse(r.body) as DumpNotification).sequence);
    for (let i = 1; i < sent.length; i++)
      expect(sent[i]!, sent.join(',')).toBeGreaterThanOrEqual(sent[i - 1]!);
    const delivered = new Map<number, DumpNotification>();
    for (const r of requests) {
      const event = JSON.parse(r.body) as DumpNotification;
      delivered.set(event.sequence, event);
    }
    const events = [...delivered.values()].sort((a, b) => a.sequence - b.sequence);
    // At least once, nothing skipped: 1, 2, ... with no hole.
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    return events;
  }

  it('running: recorded with markRunning, told though the worker died before anything else', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    origin.addStream('app', 'kr', { windowSegments: 24 });
    const victim = await cluster.addWorker({ TEST_CRASH_AFTER_EVENT: 'kr/running' });
    const dump = await cluster.startDump({
      stream: 'kr',
      id: 'r',
      fields: { callbackUrl: `${receiver.url}/cb/r` },
    });
    // Its worker died before telling the gateway; the record says Running all the same.
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    await failOver(victim, dump, 'running');
    await advance(dump, 2);
    expect((await cluster.stopDump({ stream: 'kr', id: 'r' })).status).toBe(200);

    const events = await eventsOf(dump);
    const final = await statusOf(dump);
    expect(events.map((e) => [e.sequence, e.type, e.status])).toEqual([
      [1, 'running', 'Running'],
      [2, 'completed', 'Completed'],
    ]);
    expect(events[1]).toMatchObject({
      reason: 'stopped',
      counts: { segments: final.segments, files: final.filesWritten, gaps: 0 },
    });
    expect(new Set(events.map((e) => e.runId)).size).toBe(1);
  }, 120_000);

  it('gap: recorded with the checkpoint past it, told though the new owner resumes after it', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const stream = origin.addStream('app', 'kg', { windowSegments: 24 });
    const victim = await cluster.addWorker({ TEST_CRASH_AFTER_EVENT: 'kg/gap' });
    const dump = await cluster.startDump({
      stream: 'kg',
      id: 'g',
      fields: { callbackUrl: `${receiver.url}/cb/g` },
    });
    expect(dump.status, JSON.stringify(dump.body)).toBe(200);
    await advance(dump, 2);
    const missing = stream.status('video_0').completeSegments + 1;
    stream.missingSegments([missing]);
    await failOver(victim, dump, 'gap');
    await advance(dump, 2);
    expect((await cluster.stopDump({ stream: 'kg', id: 'g' })).status).toBe(200);

    const events = await eventsOf(dump);
    const final = await statusOf(dump);
    expect(events[0]).toMatchObject({ sequence: 1, type: 'running' });
    expect(events.at(-1)).toMatchObject({
      type: 'completed',
      counts: { gaps: final.gaps, segments: final.segments },
    });
    const gaps = events.slice(1, -1);
    expect(gaps.every((e) => e.type === 'gap')).toBe(true);
    // One per rendition, each the missing segment: none lost with the worker, none told twice.
    expect(gaps.map((e) => [e.gap!.msn, e.gap!.count])).toEqual(
      stream.renditions.map(() => [missing, 1]),
    );
    expect(new Set(gaps.map((e) => e.gap!.chunklist)).size).toBe(stream.renditions.length);
    expect(gaps.reduce((sum, e) => sum + e.gap!.count, 0)).toBe(final.gaps);
  }, 120_000);
});
