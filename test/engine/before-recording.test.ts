import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestOrigin, type RenditionId, type TestOrigin } from '@hlsdump/test-origin';
import { baseName, readChunklist, startDump, tempDir } from '../support/dump-kit.js';
import { readInfoFile } from '../support/info-file-check.js';

// A dump held before it records (the worker does so while its other starts are in progress,
// services/worker/src/starts-in-progress.ts) writes nothing meanwhile, then records from the live
// edge it started at: the segments the origin completed during the hold are in the dump.
let origin: TestOrigin;
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  origin = await createTestOrigin({ speed: 8 });
  dir = await tempDir('before-recording');
});
afterAll(async () => {
  await origin?.close();
  await dir?.remove();
});

/** A hold the test releases, and what the dump passed to it. */
function hold(): {
  wait: (signal: AbortSignal) => Promise<void>;
  release: () => void;
  calls: AbortSignal[];
} {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const calls: AbortSignal[] = [];
  return {
    calls,
    release,
    wait: (signal) => {
      calls.push(signal);
      return new Promise<void>((resolve) => {
        void released.then(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
}

/** A dump of a new live stream `name`, held before it records. */
async function startHeld(name: string) {
  const stream = origin.addStream('app', name, { windowSegments: 8 });
  const outputPath = join(dir.path, name);
  const infoFile = join(dir.path, `${name}.xml`);
  const gate = hold();
  const run = await startDump(
    {
      originBaseUrl: new URL('.', stream.masterUrl).href,
      playlists: ['llhls.m3u8'],
      outputPath,
      infoFile,
      streamName: `/default/app/${name}`,
    },
    { beforeRecording: gate.wait },
  );
  return { stream, outputPath, infoFile, gate, run };
}

it('held, a running dump writes nothing; released, it records every segment from its start on, byte for byte', async () => {
  const { stream, outputPath, infoFile, gate, run } = await startHeld('held');
  const fileEvents = () => run.events.filter((e) => e.type === 'file').length;
  // Three segments' time at the origin (0.5 s each at speed 8) while held.
  const heldFrom = stream.status('video_0').completeSegments - 1;
  await stream.waitForSegment(heldFrom + 3);
  expect(gate.calls).toHaveLength(1);
  expect(fileEvents()).toBe(0);
  expect(await readdir(outputPath)).toEqual([]);

  gate.release();
  await run.segmentsWritten(5);
  const result = await run.dump.stop();
  await run.close();

  expect(result.status).toBe('Completed');
  expect(result.gaps).toBe(0);
  for (const rendition of stream.renditions) {
    const id: RenditionId = rendition.id;
    const { details } = await readChunklist(join(outputPath, baseName(stream.chunklistUrl(id))));
    const first = details.segments[0]!;
    // It starts where the dump started (the live edge before the hold), not where the hold ended.
    const firstMsn = Number(/^seg_\d+_(\d+)_/.exec(baseName(first.uri))?.[1]);
    expect(firstMsn).toBeLessThanOrEqual(heldFrom + 1);
    expect(details.segments.length).toBeGreaterThanOrEqual(5);
    for (const [index, segment] of details.segments.entries()) {
      expect(baseName(segment.uri)).toBe(baseName(stream.segmentUrl(id, firstMsn + index)));
      const bytes = await readFile(join(outputPath, baseName(segment.uri)));
      expect(bytes.equals(stream.segmentBytes(id, firstMsn + index))).toBe(true);
    }
  }
  expect((await readInfoFile(infoFile)).status).toBe('Completed');
});

it('a dump stopped while held ends at once, Completed, its files final', async () => {
  const { stream, outputPath, infoFile, gate, run } = await startHeld('stopped-held');
  await delay(200);
  const stoppedAt = performance.now();
  const result = await run.dump.stop();
  const stopMs = performance.now() - stoppedAt;
  await run.close();

  expect(gate.calls[0]?.aborted).toBe(true);
  expect(result.status).toBe('Completed');
  expect(stopMs).toBeLessThan(2_000);
  expect((await readInfoFile(infoFile)).status).toBe('Completed');
  for (const rendition of stream.renditions) {
    const { details } = await readChunklist(
      join(outputPath, baseName(stream.chunklistUrl(rendition.id))),
    );
    expect(details.endList).toBe(true);
  }
});
