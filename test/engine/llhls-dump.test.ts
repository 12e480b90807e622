import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOrigin, type RenditionId, type TestOrigin } from '@hlsdump/test-origin';
import { ffprobe } from '../support/ffprobe.js';
import { expectConsistentItems, readInfoFile } from '../support/info-file-check.js';
import { pollInfoFile } from '../support/info-file-poller.js';
import { baseName, readChunklist, startDump, tempDir } from '../support/dump-kit.js';

const SEGMENTS = 12;

describe('dumping a live LL-HLS origin', () => {
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    dir = await tempDir('llhls');
  });
  afterAll(async () => {
    await origin?.close();
    await dir?.remove();
  });

  it('copies every segment and init byte for byte into playable VOD chunklists, listed in the infoFile', async () => {
    const stream = origin.addStream('app', 'stream', { windowSegments: 6 });
    const outputPath = join(dir.path, 'out');
    const infoFile = join(dir.path, 'info', 'dump.xml');
    const poller = pollInfoFile(infoFile);
    const run = await startDump({
      originBaseUrl: new URL('.', stream.masterUrl).href,
      playlists: ['llhls.m3u8', 'abr.m3u8'],
      outputPath,
      infoFile,
      userData: `access_key_id='AKIA<&>"x"'`,
      streamName: '/default/app/stream',
    });
    await run.segmentsWritten(SEGMENTS);
    const result = await run.dump.stop();
    const polled = await poller.stop();
    await run.close();

    expect(result.status).toBe('Completed');
    expect(result.gaps).toBe(0);
    expect(polled.invalid, JSON.stringify(polled.firstInvalid)).toBe(0);
    expect(polled.reads).toBeGreaterThan(20);

    // Every rendition starts at the same media sequence number: the live edge.
    const firstMsns = new Set(result.renditions.map((r) => (r.lastMsn ?? 0) - r.segments + 1));
    const dumpedLists = await Promise.all(
      result.renditions.map((r) => readFile(join(outputPath, r.chunklist), 'utf8')),
    );
    expect(firstMsns.size, JSON.stringify(result.renditions) + dumpedLists.join('\n----\n')).toBe(
      1,
    );
    const firstMsn = [...firstMsns][0]!;
    expect(stream.renditions).toHaveLength(3);

    let videoDuration = 0;
    for (const rendition of stream.renditions) {
      const id: RenditionId = rendition.id;
      const { text, details } = await readChunklist(
        join(outputPath, baseName(stream.chunklistUrl(id))),
      );
      expect(details.endList).toBe(true);
      expect(text).not.toMatch(/#EXT-X-(PART|PRELOAD-HINT|SERVER-CONTROL|PART-INF)/);
      expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:0\n');
      expect(details.segments.length).toBeGreaterThanOrEqual(SEGMENTS);
      expect(details.segments.some((s) => s.discontinuity)).toBe(false);
      for (const [index, segment] of details.segments.entries()) {
        const msn = firstMsn + index;
        expect(baseName(segment.uri)).toBe(baseName(stream.segmentUrl(id, msn)));
        expect(segment.duration).toBeCloseTo(stream.segmentDuration(id, msn), 5);
        expect(segment.programDateTime).toBeDefined();
        expect(Date.parse(segment.programDateTime!)).toBe(
          stream.programDateTime(id, msn).getTime(),
        );
        const bytes = await readFile(join(outputPath, baseName(segment.uri)));
        expect(bytes.equals(stream.segmentBytes(id, msn)), `${id} segment ${msn} bytes`).toBe(true);
        if (id === 'video_0') videoDuration += segment.duration;
      }
      const map = details.segments[0]!.map!;
      expect(baseName(map.uri)).toBe(baseName(stream.initUrl(id)));
      expect(
        (await readFile(join(outputPath, baseName(map.uri)))).equals(stream.initBytes(id)),
      ).toBe(true);
    }

    // Both masters were copied with URIs pointing at the local chunklists.
    for (const master of ['llhls.m3u8', 'abr.m3u8']) {
      const text = await readFile(join(outputPath, master), 'utf8');
      const uris = [
        ...text.split('\n').filter((line) => line && !line.startsWith('#')),
        ...[...text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!),
      ];
      expect(uris.length).toBeGreaterThan(0);
      const files = new Set(await readdir(outputPath));
      for (const uri of uris) expect(files.has(uri), `${master} → ${uri}`).toBe(true);
    }

    const probe = await ffprobe(join(outputPath, 'llhls.m3u8'));
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(
      expect.arrayContaining(['audio', 'video']),
    );
    expect(Math.abs(probe.durationSeconds - videoDuration)).toBeLessThanOrEqual(
      stream.targetDuration,
    );

    const info = await readInfoFile(infoFile);
    expect(info.status).toBe('Completed');
    expect(info.stream).toBe('/default/app/stream');
    expect(info.userData).toBe(`access_key_id='AKIA<&>"x"'`);
    expectConsistentItems(info);
    const fileEvents = run.events.filter((e) => e.type === 'file');
    expect(info.items).toHaveLength(fileEvents.length);
    expect(info.items.map((i) => i.file)).toEqual(
      fileEvents.map((e) => e.type === 'file' && e.path),
    );
    // Every file in outputPath is listed; no temporary file is left behind.
    const listed = new Set(info.items.map((i) => i.file));
    for (const name of await readdir(outputPath))
      expect(listed.has(join(outputPath, name)), name).toBe(true);
  });
});
