import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@hlsdump/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chunklist } from './chunklist.js';
import type { ChunklistEntry } from './dump-types.js';
import { ChunklistFile, completeSegments } from './chunklist-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hlsdump-chunklist-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const storage = new LocalStorage();

/** The entry's lines, then the head that knows of it: what an append of it is given. */
function next(list: Chunklist, entry: ChunklistEntry): [string, string] {
  const lines = list.add(entry);
  return [list.head(), lines];
}
let files = 0;
function newFile(segments?: string): ChunklistFile {
  return new ChunklistFile(storage, join(dir, `chunklist-${files++}.m3u8`), segments);
}

describe('ChunklistFile', () => {
  it('appends in place: ENDLIST after the head, each segment after the last', async () => {
    const list = new Chunklist({ version: 6, targetDuration: 4, independentSegments: true });
    const file = newFile();
    await file.rewrite(list.head());
    const { ino } = await stat(file.path);
    const a = list.add({ file: 'a.m4s', duration: 4, discontinuity: false, map: 'init.mp4' });
    await file.append(list.head(), a);
    const b = list.add({ file: 'b.m4s', duration: 4, discontinuity: false, map: 'init.mp4' });
    await file.append(list.head(), b);
    expect((await stat(file.path)).ino).toBe(ino); // the same file, never replaced
    expect(await readFile(file.path, 'utf8')).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
        '#EXT-X-TARGETDURATION:4',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-ENDLIST',
        '#',
        '#EXT-X-MAP:URI="init.mp4"',
        '#',
        '#EXTINF:4,',
        '#',
        'a.m4s',
        '#',
        '#EXTINF:4,',
        '#',
        'b.m4s',
        '',
      ].join('\n'),
    );
    await file.finish(list.head());
    expect(await readFile(file.path, 'utf8')).toBe(
      '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n' +
        '#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\na.m4s\n' +
        '#EXTINF:4,\nb.m4s\n#EXT-X-ENDLIST\n',
    );
  });

  it('writes as many bytes for the 5 000th segment as for the 2nd', async () => {
    const list = new Chunklist({ targetDuration: 4, independentSegments: false });
    const file = newFile();
    await file.rewrite(list.head());
    const written: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const lines = list.add({ file: `s${i % 10}.m4s`, duration: 4, discontinuity: false });
      written.push(await file.append(list.head(), lines));
    }
    expect(written[4999]).toBe(written[1]);
    expect(written[1]).toBeLessThan(40);
    await file.close();
  });

  it('rewrites the whole file when the head changes, and drops the comment lines', async () => {
    const list = new Chunklist({ targetDuration: 4, independentSegments: false });
    const file = newFile();
    await file.rewrite(list.head());
    await file.append(...next(list, { file: 'a.ts', duration: 4, discontinuity: false }));
    // 6.2 s rounds to 6: the target must follow, which only a rewrite of the head can do (an
    // append would leave `#` lines: there are none).
    await file.append(...next(list, { file: 'b.ts', duration: 6.2, discontinuity: false }));
    expect(await readFile(file.path, 'utf8')).toBe(
      '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-ENDLIST\n' +
        '#EXTINF:4,\na.ts\n#EXTINF:6.2,\nb.ts\n',
    );
    await file.append(...next(list, { file: 'c.ts', duration: 4, discontinuity: true }));
    await file.finish(list.head());
    expect(await readFile(file.path, 'utf8')).toBe(
      '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n' +
        '#EXTINF:4,\na.ts\n#EXTINF:6.2,\nb.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:4,\nc.ts\n#EXT-X-ENDLIST\n',
    );
  });

  it('starts a resumed file from the segments it is given, not from the torn file on disk', async () => {
    const list = new Chunklist({ targetDuration: 2, independentSegments: false });
    const first = newFile();
    await first.rewrite(list.head());
    const a = list.add({ file: 'a.ts', duration: 2, discontinuity: false });
    await first.append(list.head(), a);
    await first.close();
    const resumed = new ChunklistFile(storage, first.path, a);
    const b = list.add({ file: 'b.ts', duration: 2, discontinuity: false });
    await resumed.append(list.head(), b);
    await resumed.finish(list.head());
    expect(await readFile(first.path, 'utf8')).toBe(
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n#EXT-X-ENDLIST\n',
    );
  });

  it("makes its final form's file while it records: the end creates none, a close leaves none", async () => {
    const folder = join(dir, 'prepared');
    await storage.ensureDir(folder);
    const list = new Chunklist({ targetDuration: 2, independentSegments: false });
    const ended = new ChunklistFile(storage, join(folder, 'ended.m3u8'));
    const suspended = new ChunklistFile(storage, join(folder, 'suspended.m3u8'));
    for (const file of [ended, suspended]) await file.rewrite(list.head());
    const [head, a] = next(list, { file: 'a.ts', duration: 2, discontinuity: false });
    for (const file of [ended, suspended]) await file.append(head, a);
    await expect.poll(async () => (await readdir(folder)).length).toBe(4);
    const temporaries = (await readdir(folder)).filter((name) => name.endsWith('.tmp')).sort();
    expect(temporaries).toEqual([
      expect.stringMatching(/^\.ended\.m3u8\.[0-9a-f]{12}\.tmp$/),
      expect.stringMatching(/^\.suspended\.m3u8\.[0-9a-f]{12}\.tmp$/),
    ]);
    const { ino } = await stat(join(folder, temporaries[0]!));
    await ended.finish(list.head());
    expect((await stat(ended.path)).ino).toBe(ino); // the prepared file, renamed into place
    expect(await readFile(ended.path, 'utf8')).toBe(
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n',
    );
    await suspended.close();
    expect((await readdir(folder)).sort()).toEqual(['ended.m3u8', 'suspended.m3u8']);
    // A suspended chunklist stays as it was, live form, for the next owner.
    expect(await readFile(suspended.path, 'utf8')).toContain(
      '#EXT-X-ENDLIST\n#\n#EXTINF:2,\n#\na.ts\n',
    );
  });

  it('an end that fails leaves no temporary beside the chunklist', async () => {
    const folder = join(dir, 'failing-end');
    await storage.ensureDir(folder);
    // The disk fails the read back of the segments (an injected fault).
    const failingReads = new (class extends LocalStorage {
      override async openPatchable(path: string, mode: { create: 'exclusive' | 'existing' }) {
        const file = await super.openPatchable(path, mode);
        return Object.assign(Object.create(file) as typeof file, {
          read: () => Promise.reject(new Error('EIO: the disk failed the read')),
        });
      }
    })();
    const list = new Chunklist({ targetDuration: 2, independentSegments: false });
    const file = new ChunklistFile(failingReads, join(folder, 'c.m3u8'));
    await file.rewrite(list.head());
    await file.append(...next(list, { file: 'a.ts', duration: 2, discontinuity: false }));
    await expect.poll(async () => (await readdir(folder)).length).toBe(2);
    await expect(file.finish(list.head())).rejects.toThrow(/EIO/);
    expect(await readdir(folder)).toEqual(['c.m3u8']);
  });

  it('fails with the storage error and recovers with a whole rewrite', async () => {
    const list = new Chunklist({ targetDuration: 2, independentSegments: false });
    const file = new ChunklistFile(storage, join(dir, 'missing-dir', 'c.m3u8'));
    await expect(file.rewrite(list.head())).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
    await storage.ensureDir(join(dir, 'missing-dir'));
    await file.append(...next(list, { file: 'a.ts', duration: 2, discontinuity: false }));
    expect(await readFile(file.path, 'utf8')).toBe(
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-ENDLIST\n#EXTINF:2,\na.ts\n',
    );
    await file.close();
  });
});

describe('completeSegments', () => {
  it('keeps complete segments and drops what an append in progress left', () => {
    const complete = '#EXTINF:2,\na.ts\n#\n#EXT-X-DISCONTINUITY\n#\n#EXTINF:2,\n#\nb.ts\n';
    expect(completeSegments(complete)).toBe(
      '#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n',
    );
    expect(completeSegments(`${complete}#\n#EXTINF:2,\n# c.ts\n`)).toBe(
      '#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n',
    );
    expect(completeSegments(`${complete}# #EXTINF:2,\n# c.t`)).toBe(
      '#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n',
    );
    expect(completeSegments('# #EXTINF:2,\n')).toBe('');
  });
});
