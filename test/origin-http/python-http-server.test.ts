import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFfmpegHlsFolder, type FfmpegHlsFolder } from '@hlsdump/test-origin';
import {
  compareFolders,
  compareWithOriginFolder,
  expectByteForByte,
} from '../support/origin-folder-check.js';
import { startDump, tempDir } from '../support/dump-kit.js';
import { ffprobe } from '../support/ffprobe.js';
import { expectPlayableCopy } from '../support/playable-copy.js';
import { startPythonHttpServer, type PythonHttpServer } from '../support/python-http-server.js';
import { REPO_ROOT, spawnNode } from '../support/spawn-node.js';

const CLI = join(REPO_ROOT, 'services/cli/bin/hlsdump.js');

/**
 * ffmpeg's live HLS output served by Python's http.server: HTTP/1.0, so the server closes the
 * connection after every response. undici 7 died on such closes (`assert(!this.paused)` in
 * Parser.finish): here the dump runs, copies byte for byte and the process ends on its own terms.
 */
describe.each(['mpegts', 'fmp4'] as const)(
  'python3 -m http.server serving ffmpeg (%s)',
  (segmentType) => {
    let folder: FfmpegHlsFolder;
    let server: PythonHttpServer;
    let dir: Awaited<ReturnType<typeof tempDir>>;

    beforeAll(async () => {
      if (!existsSync(join(REPO_ROOT, 'services/cli/dist/main.js')))
        throw new Error('run npm run build first');
      // A long list keeps every segment of the dump on the origin's disk for the comparison.
      folder = await startFfmpegHlsFolder({ segmentType, listSize: 30 });
      server = await startPythonHttpServer(folder.dir);
      dir = await tempDir(`python-${segmentType}`);
    });
    afterAll(async () => {
      await server?.close();
      await folder?.close();
      await dir?.remove();
    });

    it('the hlsdump command records it for --duration and exits 0 with a byte-exact, playable copy', async () => {
      const out = join(dir.path, 'cli');
      const infoFile = join(dir.path, 'cli.xml');
      const cli = spawnNode(CLI, [
        'dump',
        `${server.url}/${folder.mediaPlaylist}`,
        '--out',
        out,
        '--info-file',
        infoFile,
        '--duration',
        '5',
      ]);
      const { code, signal } = await cli.exited;
      expect({ code, signal }, cli.output()).toEqual({ code: 0, signal: null });
      expect(cli.output()).toMatch(/completed: \d+ files/);

      expectByteForByte(await compareFolders(out, folder.dir), 3);
      await expectPlayableCopy({
        chunklist: join(out, folder.mediaPlaylist),
        playlist: join(out, folder.mediaPlaylist),
        infoFile,
        minSegments: 3,
      });
      // The requests reached Python's server, which answers in HTTP/1.0 and closes each connection.
      expect(server.log()).toMatch(/"GET \/stream\.m3u8 HTTP\/1\.1" 200/);
      expect(await responseVersion(`${server.url}/${folder.mediaPlaylist}`)).toEqual({
        httpVersion: '1.0',
        closed: true,
      });
    });

    it('the engine records it in this process, byte for byte, with no gap', async () => {
      const outputPath = join(dir.path, 'engine');
      const run = await startDump({
        originBaseUrl: `${server.url}/`,
        playlists: [folder.masterPlaylist],
        outputPath,
        infoFile: join(dir.path, 'engine.xml'),
        streamName: '/default/app/python',
      });
      const verdicts = compareWithOriginFolder(run.dump, folder.dir);
      await run.segmentsWritten(5);
      const result = await run.dump.stop();
      await run.close();

      expect(result.status).toBe('Completed');
      expect(result.gaps).toBe(0);
      expectByteForByte(await verdicts(), 5);
      const files = await readdir(outputPath);
      expect(files).toContain(folder.masterPlaylist);
      const probe = await ffprobe(join(outputPath, folder.masterPlaylist));
      expect(probe.streams.map((s) => s.codec_type)).toEqual(
        expect.arrayContaining(['video', 'audio']),
      );
      expect(probe.durationSeconds).toBeGreaterThanOrEqual(4);
    });
  },
);

/** The HTTP version a server answers in, and whether it closed the connection after the body. */
function responseVersion(url: string): Promise<{ httpVersion: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.socket.once('close', () => resolve({ httpVersion: res.httpVersion, closed: true }));
    }).once('error', reject);
  });
}
