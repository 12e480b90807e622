import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveFileOrigin, startFfmpegLiveOrigin } from '@hlsdump/test-origin';
import { readChunklist, startDump, tempDir } from '../support/dump-kit.js';
import { ffmpegDecodeErrors } from '../support/ffmpeg-decode.js';
import { compareWithOriginFolder, expectByteForByte } from '../support/origin-folder-check.js';

describe('a live stream behind signed URLs', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('keeps each reload’s tokens, copies the init segment once, and the segments byte for byte', async () => {
    // ffmpeg's own live fMP4 output, served with a fresh token on every URI of every playlist load.
    const live = await startFfmpegLiveOrigin({ segmentType: 'fmp4' });
    cleanups.push(live.close);
    const signed = await serveFileOrigin(live.dir, {
      signedUrls: true,
      entryPlaylists: ['stream.m3u8'],
    });
    cleanups.push(signed.close);
    const dir = await tempDir('signed-live');
    cleanups.push(dir.remove);
    const outputPath = join(dir.path, 'out');
    const run = await startDump({
      originBaseUrl: signed.baseUrl,
      playlists: ['stream.m3u8'],
      outputPath,
      streamName: '/default/app/signed',
    });
    const verdicts = compareWithOriginFolder(run.dump, live.dir, ['segment']);
    await run.segmentsWritten(4);
    const result = await run.dump.stop();
    await run.close();

    expect(result.status).toBe('Completed');
    expect(result.gaps).toBe(0);
    expectByteForByte(await verdicts(), 3);
    // Every playlist reload gave the init segment a new token: one file all the same.
    const files = await readdir(outputPath);
    expect(files.filter((f) => f.endsWith('.mp4'))).toEqual(['init.mp4']);
    const segmentRequests = signed.requests.filter((r) => r.path.endsWith('.m4s'));
    expect(segmentRequests.length).toBeGreaterThanOrEqual(4);
    for (const request of signed.requests.filter((r) => r.path !== '/stream.m3u8'))
      expect(request.status, `${request.path}${request.query}`).toBe(200);
    const { details } = await readChunklist(join(outputPath, 'stream.m3u8'));
    expect(details.segments.every((s) => !s.relativeUri.includes('?'))).toBe(true);
    expect(await ffmpegDecodeErrors(join(outputPath, 'stream.m3u8'))).toBe('');
  });
});
