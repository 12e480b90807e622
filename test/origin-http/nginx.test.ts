import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFfmpegHlsFolder, type FfmpegHlsFolder } from '@hlsdump/test-origin';
import { compareWithOriginFolder, expectByteForByte } from '../support/origin-folder-check.js';
import { startDump, tempDir } from '../support/dump-kit.js';
import { expectPlayableCopy } from '../support/playable-copy.js';
import { startNginx, type NginxServer } from '../support/nginx-server.js';

const KEEPALIVE_REQUESTS = 3;

/**
 * ffmpeg's live HLS output behind Debian's nginx as CDNs configure it: kept-alive connections
 * closed after 3 requests, playlists gzipped (and so sent chunked). undici 7 died when such a
 * server closed a connection; the dump here copies byte for byte with no gap.
 */
describe.each(['mpegts', 'fmp4'] as const)('nginx serving ffmpeg (%s)', (segmentType) => {
  let folder: FfmpegHlsFolder;
  let nginx: NginxServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    folder = await startFfmpegHlsFolder({ segmentType, listSize: 10 });
    // nginx's worker may run as another user: let it read the folder.
    await chmod(folder.dir, 0o755);
    nginx = await startNginx(folder.dir, { keepaliveRequests: KEEPALIVE_REQUESTS });
    dir = await tempDir(`nginx-${segmentType}`);
  });
  afterAll(async () => {
    await nginx?.close();
    await folder?.close();
    await dir?.remove();
  });

  it('records the live stream byte for byte through closed keep-alives and gzipped playlists', async () => {
    const outputPath = join(dir.path, 'out');
    const infoFile = join(dir.path, 'info.xml');
    const run = await startDump({
      originBaseUrl: `${nginx.url}/`,
      playlists: [folder.masterPlaylist],
      outputPath,
      infoFile,
      streamName: '/default/app/nginx',
    });
    const verdicts = compareWithOriginFolder(run.dump, folder.dir);
    await run.segmentsWritten(6);
    const result = await run.dump.stop();
    await run.close();

    expect(result.status).toBe('Completed');
    expect(result.gaps).toBe(0);
    expectByteForByte(await verdicts(), 6);
    await expectPlayableCopy({
      chunklist: join(outputPath, result.renditions[0]!.chunklist),
      playlist: join(outputPath, folder.masterPlaylist),
      infoFile,
      minSegments: 6,
    });

    // What nginx saw: connections it closed after their third request, gzipped chunked playlists.
    const log = (await nginx.accessLog()).map((line) => line.split(' '));
    const requestsPerConnection = new Map<string, number>();
    for (const [connection, nth] of log)
      requestsPerConnection.set(
        connection!,
        Math.max(requestsPerConnection.get(connection!) ?? 0, Number(nth)),
      );
    expect(Math.max(...requestsPerConnection.values())).toBe(KEEPALIVE_REQUESTS);
    expect(
      [...requestsPerConnection.values()].filter((n) => n === KEEPALIVE_REQUESTS).length,
    ).toBeGreaterThan(2);
    const playlists = log.filter((fields) => fields.join(' ').includes('.m3u8 HTTP'));
    expect(playlists.length).toBeGreaterThan(3);
    for (const fields of playlists)
      expect(fields.slice(3, 5), fields.join(' ')).toEqual(['gzip', 'chunked']);
  });
});
