import { createServer, type Server } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChunklist, startDump, tempDir } from '../support/dump-kit.js';
import { readInfoFile } from '../support/info-file-check.js';

/** An origin whose playlists name files to escape outputPath with, served over real HTTP. */
async function hostileOrigin(otherHost: string): Promise<{ server: Server; url: string }> {
  const longName = `${'n'.repeat(3000)}.ts`;
  const segments = [
    '../../escape.ts',
    '/absolute/root.ts',
    `${otherHost}/elsewhere/../../../other-host.ts`,
    'seg.ts?token=../../x&y=/etc/passwd',
    '%2e%2e%2f%2e%2e%2fencoded.ts',
    longName,
    '..%5c..%5cbackslash.ts',
    '.hidden.ts',
  ];
  const media = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-MEDIA-SEQUENCE:0',
    ...segments.flatMap((uri) => ['#EXTINF:2,', uri]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
  const master = [
    '#EXTM3U',
    '#EXT-X-STREAM-INF:BANDWIDTH=1000',
    '../../../../tmp/evil/../chunk%2F..%2Flist.m3u8?x=1',
    '',
  ].join('\n');
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.endsWith('master.m3u8')) return void res.end(master);
    if (path.endsWith('.m3u8')) return void res.end(media);
    // Every segment URL answers with bytes that name the request, so a misplaced write is traceable.
    res.end(`segment for ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { server, url: `http://127.0.0.1:${address.port}/app/stream/` };
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
}

describe('a hostile origin', () => {
  let main: Awaited<ReturnType<typeof hostileOrigin>>;
  let other: Awaited<ReturnType<typeof hostileOrigin>>;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    other = await hostileOrigin('http://unused.invalid');
    main = await hostileOrigin(new URL(other.url).origin);
    dir = await tempDir('hostile');
  });
  afterAll(async () => {
    main?.server.close();
    other?.server.close();
    await dir?.remove();
  });

  it('never writes outside outputPath, whatever the playlists name', async () => {
    const outputPath = join(dir.path, 'deep', 'out');
    const infoFile = join(dir.path, 'deep', 'info.xml');
    const run = await startDump({
      originBaseUrl: main.url,
      playlists: ['master.m3u8'],
      outputPath,
      infoFile,
      streamName: '/default/app/stream',
    });
    const result = await run.dump.done;
    await run.close();
    expect(result.status).toBe('Completed');

    // The only files in the whole temp tree are the infoFile and plain names directly in outputPath.
    const files = await listTree(dir.path);
    expect(files).toContain(join('deep', 'info.xml'));
    for (const file of files.filter((f) => f !== join('deep', 'info.xml'))) {
      expect(file.startsWith(join('deep', 'out') + '/'), file).toBe(true);
      const name = file.slice(join('deep', 'out').length + 1);
      expect(name).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/);
      expect(name.length).toBeLessThanOrEqual(150);
    }
    // Eight segments were all fetched (from both hosts) and written under distinct names.
    const chunklistName = files.find((f) => f.endsWith('.m3u8') && !f.endsWith('master.m3u8'))!;
    const { details } = await readChunklist(join(dir.path, chunklistName));
    expect(details.segments).toHaveLength(8);
    expect(new Set(details.segments.map((s) => s.uri)).size).toBe(8);
    const info = await readInfoFile(infoFile);
    for (const item of info.items) {
      expect(item.file === infoFile || item.file.startsWith(outputPath + '/'), item.file).toBe(
        true,
      );
    }
  });
});
