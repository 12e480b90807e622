import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import { DumpError } from '@hlsdump/dump-engine';
import { readInfoFile } from '../support/info-file-check.js';
import { baseName, readChunklist, startDump, tempDir } from '../support/dump-kit.js';

const FAST_LIMITS = { goneAfterMs: 800, unreachableAfterMs: 1500 };

describe('origin and storage faults', () => {
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let streams = 0;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    dir = await tempDir('faults');
  });
  afterAll(async () => {
    await origin?.close();
    await dir?.remove();
  });

  function request(stream: StreamControl, name: string) {
    return {
      originBaseUrl: new URL('.', stream.masterUrl).href,
      playlists: ['llhls.m3u8'],
      outputPath: join(dir.path, name, 'out'),
      infoFile: join(dir.path, name, 'info.xml'),
      streamName: `/default/app/${name}`,
    };
  }

  it('a segment the origin lost becomes a discontinuity and a counted gap; the dump goes on', async () => {
    const stream = origin.addStream('app', `s${streams++}`, { windowSegments: 6 });
    const lost = stream.status('video_0').completeSegments + 2;
    stream.missingSegments([lost]);
    const run = await startDump(request(stream, 'lost'), { limits: FAST_LIMITS });
    await run.segmentsWritten(6);
    const result = await run.dump.stop();
    await run.close();

    expect(result.status).toBe('Completed');
    expect(result.gaps).toBe(stream.renditions.length);
    for (const rendition of result.renditions) expect(rendition.gaps).toBe(1);
    const gapEvents = run.events.filter((e) => e.type === 'gap');
    expect(gapEvents.map((e) => e.type === 'gap' && e.msn)).toEqual(
      stream.renditions.map(() => lost),
    );
    for (const rendition of stream.renditions) {
      const { details } = await readChunklist(
        join(dir.path, 'lost', 'out', baseName(stream.chunklistUrl(rendition.id))),
      );
      const names = details.segments.map((s) => baseName(s.uri));
      expect(names).not.toContain(baseName(stream.segmentUrl(rendition.id, lost)));
      const after = names.indexOf(baseName(stream.segmentUrl(rendition.id, lost + 1)));
      expect(after).toBeGreaterThan(0);
      expect(details.segments.map((s) => s.discontinuity)).toEqual(
        details.segments.map((_, i) => i === after),
      );
    }
  });

  it('a burst of 5xx answers is retried without losing a segment', async () => {
    const stream = origin.addStream('app', `s${streams++}`, { windowSegments: 6 });
    const run = await startDump(request(stream, 'burst'), { limits: FAST_LIMITS });
    stream.failNext(4, 503);
    await run.segmentsWritten(5);
    const result = await run.dump.stop();
    await run.close();

    expect(stream.requests.filter((r) => r.status === 503)).toHaveLength(4);
    expect(result.status).toBe('Completed');
    expect(result.gaps).toBe(0);
    for (const rendition of stream.renditions) {
      const { details } = await readChunklist(
        join(dir.path, 'burst', 'out', baseName(stream.chunklistUrl(rendition.id))),
      );
      const first = result.renditions[0]!.lastMsn! - result.renditions[0]!.segments + 1;
      expect(details.segments.map((s) => baseName(s.uri))).toEqual(
        details.segments.map((_, i) => baseName(stream.segmentUrl(rendition.id, first + i))),
      );
    }
  });

  it('EXT-X-ENDLIST at the origin completes the dump by itself', async () => {
    const stream = origin.addStream('app', `s${streams++}`, { windowSegments: 6 });
    const run = await startDump(request(stream, 'endlist'), { limits: FAST_LIMITS });
    await run.segmentsWritten(2);
    stream.end();
    const result = await run.dump.done;
    await run.close();

    expect(result.status).toBe('Completed');
    expect(result.endReason).toMatch(/ENDLIST/);
    const last = stream.status('video_0').completeSegments - 1;
    for (const rendition of result.renditions) expect(rendition.lastMsn).toBe(last);
    expect((await readInfoFile(join(dir.path, 'endlist', 'info.xml'))).status).toBe('Completed');
  });

  it('a stream whose playlist stays 404 past the limit has ended: Completed, with the reason', async () => {
    const stream = origin.addStream('app', `s${streams++}`, { windowSegments: 6 });
    const run = await startDump(request(stream, 'gone'), { limits: FAST_LIMITS });
    await run.segmentsWritten(2);
    stream.disappear();
    const result = await run.dump.done;
    await run.close();

    expect(result.status).toBe('Completed');
    expect(result.endReason).toMatch(/404/);
    expect((await readInfoFile(join(dir.path, 'gone', 'info.xml'))).status).toBe('Completed');
  });

  it('an origin unreachable past the limit ends the dump in Error, with the reason in the infoFile', async () => {
    const doomed = await createTestOrigin({ speed: 8 });
    const stream = doomed.addStream('app', 'doomed', { windowSegments: 6 });
    const run = await startDump(request(stream, 'unreachable'), { limits: FAST_LIMITS });
    await run.segmentsWritten(2);
    await doomed.close();
    const result = await run.dump.done;
    await run.close();

    expect(result.status).toBe('Error');
    expect(result.error?.code).toBe('ORIGIN_UNREACHABLE');
    const info = await readInfoFile(join(dir.path, 'unreachable', 'info.xml'));
    expect(info.status).toBe('Error');
    expect(info.error).toContain(stream.chunklistUrl('video_0').split('/').slice(0, 3).join('/'));
  });

  it('an outputPath that cannot be created refuses the start with the reason', async () => {
    const stream = origin.addStream('app', `s${streams++}`, { windowSegments: 6 });
    const blocker = join(dir.path, 'blocker');
    await writeFile(blocker, 'a regular file where a directory should be');
    const attempt = startDump({ ...request(stream, 'blocked'), outputPath: join(blocker, 'out') });
    await expect(attempt).rejects.toBeInstanceOf(DumpError);
    await expect(attempt).rejects.toMatchObject({
      code: expect.stringMatching(/^STORAGE_/),
      message: expect.stringContaining(blocker),
    });
  });

  it('a rendition that cannot be read refuses the start, and the infoFile it created says Error with the reason', async () => {
    const stream = origin.addStream('app', `s${streams++}`, { windowSegments: 6 });
    stream.failNext(50, 404, /chunklist_2_/);
    const attempt = startDump(request(stream, 'badrendition'), {
      limits: { ...FAST_LIMITS, goneAfterMs: 300 },
    });
    await expect(attempt).rejects.toBeInstanceOf(DumpError);
    const info = await readInfoFile(join(dir.path, 'badrendition', 'info.xml'));
    expect(info.status).toBe('Error');
    expect(info.error).toContain('chunklist_2_');
  });

  it('losing the outputPath mid-dump ends it in Error, with the reason in the infoFile', async () => {
    const stream = origin.addStream('app', `s${streams++}`, { windowSegments: 6 });
    const run = await startDump(request(stream, 'lostdir'), { limits: FAST_LIMITS });
    await run.segmentsWritten(2);
    const outputPath = join(dir.path, 'lostdir', 'out');
    await rename(outputPath, `${outputPath}.moved`);
    await writeFile(outputPath, 'no longer a directory');
    const result = await run.dump.done;
    await run.close();

    expect(result.status).toBe('Error');
    expect(result.error?.code).toMatch(/^STORAGE_/);
    const info = await readInfoFile(join(dir.path, 'lostdir', 'info.xml'));
    expect(info.status).toBe('Error');
    expect(info.error).toContain(outputPath);
    // Nothing was listed for a write that failed: every Item names a file that was complete.
    const moved = info.items.map((item) => item.file.replace(outputPath, `${outputPath}.moved`));
    for (const file of moved) await expect(readFile(file)).resolves.toBeInstanceOf(Buffer);
  });
});
