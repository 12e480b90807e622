import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import type { DumpCheckpoint } from '@hlsdump/dump-engine';
import { readChunklist, startDump, tempDir } from '../support/dump-kit.js';

let origin: TestOrigin;
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  origin = await createTestOrigin({ speed: 8 });
  dir = await tempDir('checkpoint-saves');
});
afterAll(async () => {
  await origin?.close();
  await dir?.remove();
});

it('renditions advancing together share checkpoint saves, and none lists a segment before one is saved', async () => {
  const stream = origin.addStream('app', 'saves', { windowSegments: 6 });
  const outputPath = join(dir.path, 'out');
  const saved: DumpCheckpoint[] = [];
  const violations: string[] = [];
  let chunklistWrites = 0;
  const run = await startDump(
    {
      originBaseUrl: new URL('.', stream.masterUrl).href,
      playlists: ['llhls.m3u8'],
      outputPath,
      streamName: '/default/app/saves',
    },
    {
      // A checkpoint store that takes a few milliseconds to answer, as Redis over a network does.
      onCheckpoint: async (checkpoint) => {
        const copy = structuredClone(checkpoint);
        await delay(5);
        saved.push(copy);
      },
    },
  );
  // When a chunklist lists a segment, a checkpoint counting it was saved before (the recorder
  // waits for the save): a new owner never finds the disk ahead of the checkpoint by more than the
  // entry the checkpoint carries.
  run.dump.on((event) => {
    if (event.type !== 'file' || event.kind !== 'chunklist') return;
    chunklistWrites++;
    const progress = run.dump.progress();
    const index = progress.renditions.findIndex((r) => event.path.endsWith(`/${r.chunklist}`));
    const listed = progress.renditions[index]!.segments;
    const savedCount = saved.at(-1)?.renditions[index]?.entryCount ?? 0;
    if (savedCount < listed)
      violations.push(`${event.path}: ${listed} listed, ${savedCount} saved`);
  });
  await run.segmentsWritten(12);
  const result = await run.dump.stop();
  await run.close();

  expect(result.status).toBe('Completed');
  expect(violations).toEqual([]);
  const segments = result.renditions.reduce((sum, r) => sum + r.segments, 0);
  expect(segments).toBeGreaterThanOrEqual(36);
  // One save per segment plus the start's without sharing; three renditions whose segments
  // complete at the same instant share some (typically three saves for four segments here).
  expect(saved.length).toBeLessThan(segments);
  expect(chunklistWrites).toBeGreaterThanOrEqual(segments);
  // And the last checkpoint saved accounts for everything on disk.
  const last = saved.at(-1)!;
  for (const [i, r] of result.renditions.entries()) {
    const { details } = await readChunklist(join(outputPath, r.chunklist));
    expect(last.renditions[i]!.entryCount).toBe(details.segments.length);
  }
});
