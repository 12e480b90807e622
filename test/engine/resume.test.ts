import { existsSync } from 'node:fs';
import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import type { DumpCheckpoint, DumpRequest } from '@hlsdump/dump-engine';
import { LocalStorage, tempPathFor } from '@hlsdump/storage';
import { ffprobe } from '../support/ffprobe.js';
import { expectConsistentItems, readInfoFile } from '../support/info-file-check.js';
import { baseName, readChunklist, startDump, tempDir } from '../support/dump-kit.js';

/**
 * A dump whose owner dies: its writes are cut off by the fence (as when a worker is killed or
 * loses its lease), nothing is finalized, and another dump resumes from the last checkpoint it
 * saved. Cross-process versions of these run in test/cluster.
 */
describe('resuming a dump from its checkpoint', () => {
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let count = 0;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    dir = await tempDir('resume');
  });
  afterAll(async () => {
    await origin?.close();
    await dir?.remove();
  });

  function requestFor(stream: StreamControl, name: string): DumpRequest {
    return {
      originBaseUrl: new URL('.', stream.masterUrl).href,
      playlists: ['llhls.m3u8'],
      outputPath: join(dir.path, name, 'out'),
      infoFile: join(dir.path, name, 'info.xml'),
      streamName: `/default/app/${name}`,
    };
  }

  /** Runs a dump until `segments` are written, then cuts it off; returns its last checkpoint. */
  async function dumpThenDie(
    request: DumpRequest,
    segments: number,
    cutBetweenCheckpointAndChunklist = false,
  ): Promise<DumpCheckpoint> {
    let dead = false;
    let last: DumpCheckpoint | undefined;
    let armed = false;
    const run = await startDump(request, {
      beforeWrite: () => {
        if (dead) throw new Error('killed');
      },
      onCheckpoint: (checkpoint) => {
        if (dead) return;
        last = structuredClone(checkpoint);
        // The owner dies right after saving a checkpoint, before rewriting the chunklist.
        if (armed && checkpoint.renditions.some((r) => r.entryCount >= segments)) dead = true;
      },
    });
    if (cutBetweenCheckpointAndChunklist) armed = true;
    else await run.segmentsWritten(segments).then(() => (dead = true));
    const end = await run.dump.done;
    await run.close();
    expect(end.status).toBe('Running'); // never finalized: the next owner does that
    expect(end.error?.code).toBe('DUMP_FENCED');
    return last!;
  }

  async function expectContinuous(
    stream: StreamControl,
    request: DumpRequest,
    expectedGaps: number,
  ) {
    for (const rendition of stream.renditions) {
      const { details, text } = await readChunklist(
        join(request.outputPath, baseName(stream.chunklistUrl(rendition.id))),
      );
      const names = details.segments.map((s) => baseName(s.uri));
      expect(new Set(names).size, 'no duplicates').toBe(names.length);
      const first = Number(/seg_\d+_(\d+)_/.exec(names[0]!)![1]);
      const msns = names.map((n) => Number(/seg_\d+_(\d+)_/.exec(n)![1]));
      const missing = msns.at(-1)! - first + 1 - msns.length;
      expect(missing).toBe(expectedGaps);
      expect((text.match(/#EXT-X-DISCONTINUITY/g) ?? []).length).toBe(expectedGaps > 0 ? 1 : 0);
      expect((text.match(/#EXT-X-MAP/g) ?? []).length).toBe(expectedGaps > 0 ? 2 : 1);
      for (const [index, msn] of msns.entries()) {
        const bytes = await readFile(join(request.outputPath, names[index]!));
        expect(bytes.equals(stream.segmentBytes(rendition.id, msn)), `${rendition.id} ${msn}`).toBe(
          true,
        );
      }
    }
    const info = await readInfoFile(request.infoFile!);
    expect(info.status).toBe('Completed');
    expectConsistentItems(info);
    // Nothing in outputPath that the infoFile does not list: no leftover temporary file.
    const listed = new Set(info.items.map((item) => item.file));
    for (const name of await readdir(request.outputPath)) {
      expect(listed.has(join(request.outputPath, name)), name).toBe(true);
    }
    const probe = await ffprobe(join(request.outputPath, 'llhls.m3u8'));
    expect(probe.durationSeconds).toBeGreaterThan(0);
  }

  it('continues the chunklists and the infoFile Seq with no missing segment while the window holds them', async () => {
    const stream = origin.addStream('app', `r${count++}`, { windowSegments: 8 });
    const request = requestFor(stream, 'whole');
    const checkpoint = await dumpThenDie(request, 3);
    const itemsBefore = (await readInfoFile(request.infoFile!)).items.length;
    // The dead owner was killed mid-write: its temporary files are still there.
    const leftovers = [
      tempPathFor(join(request.outputPath, 'seg_9_999_video_x_llhls.m4s')),
      tempPathFor(request.infoFile!),
    ];
    for (const path of leftovers) await writeFile(path, 'partial');

    const resumed = await startDump(request, { resumeFrom: checkpoint });
    await resumed.segmentsWritten(6);
    const result = await resumed.dump.stop();
    await resumed.close();
    expect(result.gaps).toBe(0);
    expect((await readInfoFile(request.infoFile!)).items.length).toBeGreaterThan(itemsBefore);
    for (const path of leftovers) expect(existsSync(path), path).toBe(false);
    await expectContinuous(stream, request, 0);
  });

  it('goes on after the segments its dead owner listed past the last checkpoint it saved', async () => {
    const stream = origin.addStream('app', `r${count++}`, { windowSegments: 8 });
    const request = requestFor(stream, 'behind');
    // The saved checkpoint is the first with a segment on every rendition: what a store holds when
    // the saves of segments that only follow the last one are spaced out (run-checkpoints.ts).
    let saved: DumpCheckpoint | undefined;
    let dead = false;
    const run = await startDump(request, {
      beforeWrite: () => {
        if (dead) throw new Error('killed');
      },
      onCheckpoint: (checkpoint) => {
        if (saved === undefined && checkpoint.renditions.every((r) => r.entryCount > 0))
          saved = structuredClone(checkpoint);
      },
    });
    await run.segmentsWritten(4).then(() => (dead = true));
    await run.dump.done;
    await run.close();
    const behind = await Promise.all(
      saved!.renditions.map(async (r) => {
        const onDisk = await readChunklist(join(request.outputPath, r.chunklist));
        return onDisk.details.segments.length - r.entryCount;
      }),
    );
    expect(Math.min(...behind)).toBeGreaterThanOrEqual(2);

    const resumed = await startDump(request, { resumeFrom: saved! });
    await resumed.segmentsWritten(3);
    const result = await resumed.dump.stop();
    await resumed.close();
    expect(result.gaps).toBe(0);
    await expectContinuous(stream, request, 0);
    // The bytes of the segments the checkpoint missed are counted from the disk.
    for (const rendition of result.renditions) {
      const { details } = await readChunklist(join(request.outputPath, rendition.chunklist));
      let onDisk = 0;
      for (const segment of details.segments)
        onDisk += (await readFile(join(request.outputPath, baseName(segment.uri)))).byteLength;
      expect(rendition.bytes, rendition.chunklist).toBe(onDisk);
    }
  });

  it('tells again what the copied master keeps at the origin', async () => {
    const stream = origin.addStream('app', `r${count++}`, { windowSegments: 8 });
    const request = requestFor(stream, 'notices');
    const checkpoint = await dumpThenDie(request, 2);
    // The copied master as it is when the origin's names session data at a URI.
    await appendFile(
      join(request.outputPath, 'llhls.m3u8'),
      '\n#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="http://127.0.0.1:9/lyrics.json"\n',
    );
    const resumed = await startDump(request, { resumeFrom: checkpoint });
    await resumed.segmentsWritten(3);
    const result = await resumed.dump.stop();
    await resumed.close();
    expect(result.notices).toEqual([
      'llhls.m3u8: EXT-X-SESSION-DATA URI kept at the origin: the copy reads /lyrics.json only where http://127.0.0.1:9 answers',
    ]);
  });

  it('completes a chunklist the dead owner saved a checkpoint for but did not rewrite', async () => {
    const stream = origin.addStream('app', `r${count++}`, { windowSegments: 8 });
    const request = requestFor(stream, 'short');
    const checkpoint = await dumpThenDie(request, 2, true);
    // The rendition that died mid-way is one entry short on disk; the others match their checkpoint.
    const shortBy = await Promise.all(
      checkpoint.renditions.map(async (saved) => {
        const onDisk = await readChunklist(join(request.outputPath, saved.chunklist));
        return saved.entryCount - onDisk.details.segments.length;
      }),
    );
    expect(shortBy.filter((n) => n === 1)).toHaveLength(1);
    expect(shortBy.filter((n) => n !== 0 && n !== 1)).toEqual([]);

    const resumed = await startDump(request, { resumeFrom: checkpoint });
    await resumed.segmentsWritten(5);
    const result = await resumed.dump.stop();
    await resumed.close();
    expect(result.gaps).toBe(0);
    await expectContinuous(stream, request, 0);
  });

  it('continues a chunklist its dead owner left in the middle of an append', async () => {
    const stream = origin.addStream('app', `r${count++}`, { windowSegments: 8 });
    const request = requestFor(stream, 'torn');
    const checkpoint = await dumpThenDie(request, 3);
    // The owner died between an append's steps: a segment's tags live, its URI still commented
    // out, and the start of the next block (test/support/chunklist-poller.mjs reads such states).
    for (const saved of checkpoint.renditions) {
      const path = join(request.outputPath, saved.chunklist);
      await appendFile(path, '#\n#EXTINF:4,\n# seg_9_999_torn.m4s\n# #EXT-X-PROGRAM-DATE-T');
      const listed = (await readChunklist(path)).details.segments.length;
      expect(listed).toBeGreaterThanOrEqual(saved.entryCount - 1);
    }

    const resumed = await startDump(request, { resumeFrom: checkpoint });
    await resumed.segmentsWritten(6);
    const result = await resumed.dump.stop();
    await resumed.close();
    expect(result.gaps).toBe(0);
    await expectContinuous(stream, request, 0);
    for (const saved of checkpoint.renditions) {
      const text = await readFile(join(request.outputPath, saved.chunklist), 'utf8');
      expect(text).not.toContain('torn');
    }
  });

  it('lists the segments its dead owner appended to a chunklist but had not listed in the infoFile yet', async () => {
    const stream = origin.addStream('app', `r${count++}`, { windowSegments: 8 });
    const request = requestFor(stream, 'unlisted');
    // A segment's Item goes into the infoFile after its chunklist append: the owner dies in
    // between, once a chunklist on disk lists a third segment.
    let dead = false;
    let last: DumpCheckpoint | undefined;
    const storage = new (class extends LocalStorage {
      override async openPatchable(path: string, mode: { create: 'exclusive' | 'existing' }) {
        const file = await super.openPatchable(path, mode);
        if (!path.endsWith('.m3u8')) return file;
        return {
          path: file.path,
          size: () => file.size(),
          read: (offset: number, length: number) => file.read(offset, length),
          close: () => file.close(),
          write: async (offset: number, data: Uint8Array) => {
            await file.write(offset, data);
            if ((await readChunklist(path)).details.segments.length >= 3) dead = true;
          },
        };
      }
    })();
    const run = await startDump(request, {
      storage,
      beforeWrite: () => {
        if (dead) throw new Error('killed');
      },
      onCheckpoint: (checkpoint) => {
        if (!dead) last = structuredClone(checkpoint);
      },
    });
    const end = await run.dump.done;
    await run.close();
    expect(end.error?.code).toBe('DUMP_FENCED');
    const listedBefore = new Set(
      (await readInfoFile(request.infoFile!)).items.map((item) => item.file),
    );
    const unlisted: string[] = [];
    for (const rendition of last!.renditions) {
      const { details } = await readChunklist(join(request.outputPath, rendition.chunklist));
      for (const segment of details.segments) {
        const file = join(request.outputPath, baseName(segment.uri));
        if (!listedBefore.has(file)) unlisted.push(file);
      }
    }
    expect(unlisted.length, 'segments on a chunklist, not in the infoFile').toBeGreaterThan(0);

    const resumed = await startDump(request, { resumeFrom: last! });
    await resumed.segmentsWritten(5);
    await resumed.dump.stop();
    await resumed.close();
    const listedAfter = (await readInfoFile(request.infoFile!)).items.map((item) => item.file);
    for (const file of unlisted) {
      expect(
        listedAfter.filter((listed) => listed === file),
        file,
      ).toHaveLength(1);
    }
    await expectContinuous(stream, request, 0);
  });

  it('marks segments that left the window while nobody owned the dump as one discontinuity and counted gaps', async () => {
    const stream = origin.addStream('app', `r${count++}`, { windowSegments: 2 });
    const request = requestFor(stream, 'window');
    const checkpoint = await dumpThenDie(request, 2);
    const lastMsn = checkpoint.renditions[0]!.lastMsn!;
    // Nobody records while the origin's two-segment window moves past the next three segments.
    await stream.waitForSegment(lastMsn + 5);
    const oldestKept = stream.status('video_0').firstMsn;
    const expectedGaps = oldestKept - lastMsn - 1;
    expect(expectedGaps).toBeGreaterThan(0);

    const resumed = await startDump(request, { resumeFrom: checkpoint });
    await resumed.segmentsWritten(4);
    const result = await resumed.dump.stop();
    await resumed.close();
    for (const rendition of result.renditions) expect(rendition.gaps).toBe(expectedGaps);
    expect(result.gaps).toBe(expectedGaps * stream.renditions.length);
    await expectContinuous(stream, request, expectedGaps);
  });
});
