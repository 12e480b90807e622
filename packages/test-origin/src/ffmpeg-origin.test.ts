import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { startFfmpegLiveOrigin } from './ffmpeg-origin.js';
import { serveDirectory } from './static-server.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const uris = (playlist: string): string[] =>
  playlist.split('\n').filter((l) => l && !l.startsWith('#'));

describe('ffmpeg live origin', () => {
  it.each(['mpegts', 'fmp4'] as const)(
    '%s: comes up with ≥ 2 segments that answer 200',
    async (segmentType) => {
      const origin = await startFfmpegLiveOrigin({ segmentType });
      try {
        const master = await (await fetch(origin.masterUrl)).text();
        expect(master).toContain('#EXT-X-STREAM-INF:');
        expect(new URL(uris(master)[0]!, origin.masterUrl).href).toBe(origin.url);

        const res = await fetch(origin.url);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
        const playlist = await res.text();
        expect(playlist).toContain('#EXT-X-PROGRAM-DATE-TIME:');
        const segments = uris(playlist);
        expect(segments.length).toBeGreaterThanOrEqual(2);
        for (const uri of segments.slice(-2)) {
          expect(uri).toMatch(segmentType === 'fmp4' ? /\.m4s$/ : /\.ts$/);
          const seg = await fetch(new URL(uri, origin.url));
          expect(seg.status).toBe(200);
          const body = Buffer.from(await seg.arrayBuffer());
          if (segmentType === 'mpegts')
            expect(body[0]).toBe(0x47); // TS sync byte
          else expect(body.length).toBeGreaterThan(100);
        }
        if (segmentType === 'fmp4') {
          const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
          expect((await fetch(new URL(map, origin.url))).status).toBe(200);
        }
      } finally {
        await origin.close();
      }
      expect(existsSync(origin.dir)).toBe(false);
    },
  );
});

describe('serveDirectory', () => {
  it('serves files with content types and 404s for missing or escaping paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'serve-dir-'));
    await writeFile(join(dir, 'a.m3u8'), '#EXTM3U\n');
    await writeFile(join(dir, 'b.ts'), Buffer.from([0x47, 1, 2]));
    const served = await serveDirectory(dir);
    try {
      const a = await fetch(`${served.url}/a.m3u8`);
      expect([a.status, a.headers.get('content-type'), await a.text()]).toEqual([
        200,
        'application/vnd.apple.mpegurl',
        '#EXTM3U\n',
      ]);
      const b = await fetch(`${served.url}/b.ts`);
      expect([b.status, b.headers.get('content-type')]).toEqual([200, 'video/mp2t']);
      expect(Buffer.from(await b.arrayBuffer())).toEqual(Buffer.from([0x47, 1, 2]));
      expect((await fetch(`${served.url}/missing.ts`)).status).toBe(404);
      expect((await fetch(`${served.url}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    } finally {
      await served.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
