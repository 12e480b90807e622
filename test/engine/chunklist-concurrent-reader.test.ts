import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { Chunklist, ChunklistFile } from '@hlsdump/dump-engine';
import { baseName, readChunklist, startDump, tempDir } from '../support/dump-kit.js';
import { pollChunklists } from '../support/chunklist-poller.js';
import { steppingStorage } from '../support/patch-write-storage.js';

/**
 * A reader polling chunklists in a tight loop from another thread, as a player or an uploader
 * would, while they are appended to: every read must be a VOD playlist (ENDLIST included) listing
 * only segments complete on disk, and each read a prefix of the next.
 */
describe('a chunklist read while it is appended to', () => {
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    dir = await tempDir('chunklist-reader');
  });
  afterAll(async () => {
    await origin?.close();
    await dir?.remove();
  });

  it('is never invalid nor ahead of the disk through 20 000 appends, rewrites and the final form', async () => {
    // Each append's steps last long enough for the reader to catch many of them half done.
    const storage = steppingStorage();
    const out = join(dir.path, 'direct');
    await storage.ensureDir(out);
    const list = new Chunklist({ version: 7, targetDuration: 2, independentSegments: true });
    const file = new ChunklistFile(storage, join(out, 'chunklist.m3u8'));
    await file.rewrite(list.head());
    const poller = pollChunklists([file.path]);
    const appends = 20_000;
    for (let i = 0; i < appends; i++) {
      // Names of varying length, so the appends' steps fall at every offset of a page; a segment
      // file of its own size, renamed into place before it is listed, as a dump does it.
      const name = `s${i}${'x'.repeat(i % 37)}.m4s`;
      await storage.writeFile(join(out, name), Buffer.alloc(1 + (i % 50)));
      const lines = list.add({
        file: name,
        // Now and then a longer segment raises the target duration: a rewrite of the whole file.
        duration: i % 4000 === 3999 ? 2 + i / 4000 : 2,
        discontinuity: i % 1000 === 500,
        map: `init${Math.floor(i / 5000)}.mp4`,
        ...(i % 3 === 0 ? { programDateTime: new Date(1.7e12 + i * 2000).toISOString() } : {}),
      });
      await file.append(list.head(), lines);
    }
    await file.finish(list.head());
    const polled = await poller.stop();

    expect(polled.errors).toEqual([]);
    expect(polled.invalid).toBe(0);
    expect(polled.reads).toBeGreaterThanOrEqual(50);
    // Typically a third of the reads land between an append's steps; the floor leaves room.
    expect(polled.midAppend).toBeGreaterThanOrEqual(10);
    const seen = polled.seen[0]!;
    expect(seen).toHaveLength(appends);
    seen.forEach((segment, i) => expect(segment.size, segment.uri).toBe(1 + (i % 50)));
    const final = await readFile(file.path, 'utf8');
    expect(final.endsWith('#EXT-X-ENDLIST\n')).toBe(true);
    expect(final).not.toMatch(/^#$|^# /m);
    console.log(
      `reader: ${polled.reads} reads (${polled.midAppend} between an append's steps) of a chunklist taking ${appends} appends, 0 invalid`,
    );
  }, 120_000);

  it('is never invalid nor ahead of the disk through a whole live dump', async () => {
    const stream = origin.addStream('app', 'polled', { windowSegments: 6 });
    const outputPath = join(dir.path, 'dump');
    const chunklists = stream.renditions.map((r) =>
      join(outputPath, baseName(stream.chunklistUrl(r.id))),
    );
    const poller = pollChunklists(chunklists);
    const run = await startDump({
      originBaseUrl: new URL('.', stream.masterUrl).href,
      playlists: ['llhls.m3u8'],
      outputPath,
      infoFile: join(dir.path, 'dump.xml'),
      streamName: '/default/app/polled',
    });
    await run.segmentsWritten(24);
    const result = await run.dump.stop();
    const polled = await poller.stop();
    await run.close();

    expect(result.status).toBe('Completed');
    expect(polled.errors).toEqual([]);
    expect(polled.invalid).toBe(0);
    expect(polled.reads).toBeGreaterThan(100);
    for (const [index, path] of chunklists.entries()) {
      const { text, details } = await readChunklist(path);
      expect(text.endsWith('#EXT-X-ENDLIST\n')).toBe(true);
      const seen = polled.seen[index]!;
      expect(seen.map((s) => s.uri)).toEqual(details.segments.map((s) => baseName(s.uri)));
      expect(seen.length).toBeGreaterThanOrEqual(24);
      // The size each segment had when a reader first saw it listed is the size it ends with.
      for (const segment of seen) {
        expect((await stat(join(outputPath, segment.uri))).size, segment.uri).toBe(segment.size);
      }
    }
  }, 120_000);
});
