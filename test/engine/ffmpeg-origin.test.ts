import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFfmpegLiveOrigin } from '@hlsdump/test-origin';
import { ffprobe } from '../support/ffprobe.js';
import { expectConsistentItems, readInfoFile } from '../support/info-file-check.js';
import { baseName, readChunklist, startDump, tempDir } from '../support/dump-kit.js';
import { compareWithOriginFolder, expectByteForByte } from '../support/origin-folder-check.js';

const SEGMENTS = 5;

describe.each(['mpegts', 'fmp4'] as const)(
  'dumping ffmpeg’s own live HLS output (%s)',
  (segmentType) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    it('copies its segments byte for byte into a playlist ffprobe plays', async () => {
      const origin = await startFfmpegLiveOrigin({ segmentType });
      cleanups.push(origin.close);
      const dir = await tempDir(`ffmpeg-${segmentType}`);
      cleanups.push(dir.remove);
      const outputPath = join(dir.path, 'out');
      const infoFile = join(dir.path, 'info.xml');

      const run = await startDump({
        originBaseUrl: new URL('.', origin.url).href,
        playlists: [baseName(origin.url)],
        outputPath,
        infoFile,
        streamName: '/default/app/ffmpeg',
      });
      // ffmpeg deletes old segments (delete_segments): compare each one as soon as it is written.
      const verdicts = compareWithOriginFolder(run.dump, origin.dir, ['segment']);
      await run.segmentsWritten(SEGMENTS);
      const result = await run.dump.stop();
      await run.close();

      expect(result.status).toBe('Completed');
      expect(result.gaps).toBe(0);
      expectByteForByte(await verdicts(), SEGMENTS - 1);

      const chunklistName = result.renditions[0]!.chunklist;
      const { details } = await readChunklist(join(outputPath, chunklistName));
      expect(details.endList).toBe(true);
      const mediaPlaylist = result.renditions.length === 1 ? chunklistName : baseName(origin.url);
      const probe = await ffprobe(join(outputPath, mediaPlaylist));
      const listed = details.segments.reduce((sum, s) => sum + s.duration, 0);
      expect(probe.streams.some((s) => s.codec_type === 'video')).toBe(true);
      expect(Math.abs(probe.durationSeconds - listed)).toBeLessThanOrEqual(details.targetDuration);

      const info = await readInfoFile(infoFile);
      expect(info.status).toBe('Completed');
      expectConsistentItems(info);
    });
  },
);
