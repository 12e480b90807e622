import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, StorageError } from '@hlsdump/storage';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatItemTime } from './format-item-time.js';
import { InfoFileWriter } from './info-file-writer.js';
import { parseInfoFile } from './parse-info-file.js';
import { PatchWriteStorage } from '../../../test/support/patch-write-storage.js';

let dir: string;
let path: string;
const storage = new LocalStorage();
const fixedNow = () => new Date('2026-11-22T04:28:10.123Z');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hlsdump-info-'));
  path = join(dir, 'info.xml');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Reads the file and checks it the strict way; also asks fast-xml-parser for a second opinion. */
async function readChecked(): Promise<{ text: string; doc: ReturnType<typeof parseInfoFile> }> {
  const bytes = await readFile(path);
  expect(
    bytes.every((b) => b < 0x80),
    'file is pure ASCII',
  ).toBe(true);
  const text = bytes.toString('latin1');
  expect(XMLValidator.validate(text)).toBe(true);
  return { text, doc: parseInfoFile(text) };
}

const hostile = [
  ']]> -- --> <!-- --- a-b- -x- <![CDATA[ & &amp; < > " \' ',
  '\u0000\u0001\u0008\u000b\u000c\u001f\u007f\u0085 \t tab \n newline \r cr \r\n',
  'é 中文 😀 \uFFFE\uFFFF \uD800 lone \uDC00 surrogates ?> <?pi ?>',
].join('|');
// What XML can carry of it: forbidden characters become U+FFFD, everything else survives.
const hostileAsRead = hostile.replace(
  /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu,
  '\uFFFD',
);

describe('InfoFileWriter', () => {
  it('creates a Running file with the contract layout', async () => {
    const writer = await InfoFileWriter.create(
      storage,
      path,
      { stream: '/default/app/out', userData: 'u1' },
      { now: fixedNow },
    );
    expect(writer.status).toBe('Running');
    expect(writer.nextSeq).toBe(0);
    expect(await writer.append('/data/a.ts')).toBe(0);
    const { text, doc } = await readChecked();
    const time = formatItemTime(fixedNow());
    expect(text).toMatch(
      new RegExp(
        '^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<HLSDumpInfo>\\n  <UserData>u1</UserData>\\n' +
          '  <Stream>/default/app/out</Stream>\\n  <Status>Running</Status>\\n  <Items>\\n' +
          `    <Item><Seq>0</Seq><Time>${time.replace(/[.+]/g, '\\$&')}</Time><File>/data/a.ts</File></Item>\\n` +
          '<!-- +-->\\n  </Items>\\n</HLSDumpInfo>\\n$',
      ),
    );
    expect(doc.items).toEqual([{ seq: 0, time, file: '/data/a.ts' }]);
    await writer.close();
    expect(await readdir(dir)).toEqual(['info.xml']);
  });

  it('round-trips hostile userData, stream and paths', async () => {
    const writer = await InfoFileWriter.create(storage, path, {
      stream: `/v/${hostile}`,
      userData: hostile,
    });
    const files = [`/x/${hostile}`, '/a--b/-->/--->/-', '/ends-with-dash-', '/ünï/😀.ts'];
    for (const file of files) await writer.append(file, new Date(0));
    const { text, doc } = await readChecked();
    // The padding comment is the only place with '--'.
    expect(text.split('<!--').length).toBe(2);
    expect(text.replace(/<!-- *-->/, '')).not.toContain('--');
    expect(doc.userData).toBe(hostileAsRead);
    expect(doc.stream).toBe(`/v/${hostileAsRead}`);
    expect(doc.items.map((item) => item.file)).toEqual(
      files.map((f) => f.replace(hostile, hostileAsRead)),
    );
    // A general-purpose parser reads the same values (entities decoded, nothing trimmed).
    const parsed = new XMLParser({
      trimValues: false,
      parseTagValue: false,
      htmlEntities: true,
    }).parse(text);
    expect(parsed.HLSDumpInfo.UserData).toBe(hostileAsRead);
    await writer.finish('Error', hostile);
    const finished = await readChecked();
    expect(finished.doc.error).toBe(hostileAsRead);
    expect(finished.doc.items).toHaveLength(files.length);
  });

  it('gives Seq 0..n-1 in call order to concurrent appends', async () => {
    const writer = await InfoFileWriter.create(storage, path, { stream: '/v/a/s' });
    const n = 600; // several hundred Items: more than one padding's worth, so rewrites interleave too
    const seqs = await Promise.all(
      Array.from({ length: n }, (_, i) => writer.append(`/seg/${i}.ts`, new Date(i))),
    );
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(writer.nextSeq).toBe(n);
    const { doc } = await readChecked();
    expect(doc.items.map((item) => item.seq)).toEqual(seqs);
    expect(doc.items.map((item) => item.file)).toEqual(seqs.map((i) => `/seg/${i}.ts`));
    await writer.close();
  });

  it('appends made while a write is in flight go to the file together, in one patch', async () => {
    // Real disk underneath; the positional writes are counted on their way to it.
    let writes = 0;
    const counting = new PatchWriteStorage((write) => {
      writes++;
      return write();
    });
    const writer = await InfoFileWriter.create(counting, path, { stream: '/v/a/s' });
    const first = writer.append('/seg/0.ts');
    const joining = [writer.append('/seg/1.ts'), writer.append('/seg/2.ts')];
    expect(await first).toBe(0);
    expect(await Promise.all(joining)).toEqual([1, 2]);
    // One patch of five writes for the three Items, which the file holds as if appended one by one.
    expect(writes).toBe(5);
    const { text, doc } = await readChecked();
    expect(doc.items.map((item) => [item.seq, item.file])).toEqual([
      [0, '/seg/0.ts'],
      [1, '/seg/1.ts'],
      [2, '/seg/2.ts'],
    ]);
    expect(text).toMatch(
      /\n {4}<Item>.*<\/Item>\n {4}<Item>.*<\/Item>\n {4}<Item>.*<\/Item>\n<!-- +-->\n/,
    );
    await writer.close();
  });

  it('resume by a second writer continues Seq and keeps the file valid', async () => {
    const first = await InfoFileWriter.create(storage, path, {
      stream: '/v/a/s',
      userData: 'keep me',
    });
    for (let i = 0; i < 10; i++) await first.append(`/seg/${i}.ts`);
    await first.close();
    const before = await readFile(path);

    const second = await InfoFileWriter.resume(storage, path);
    expect(second.nextSeq).toBe(10);
    expect(second.status).toBe('Running');
    // The padding was intact, so resume reused it in place instead of rewriting.
    expect(await readFile(path)).toEqual(before);
    expect(await second.append('/seg/10.ts')).toBe(10);
    for (let i = 11; i < 400; i++) expect(await second.append(`/seg/${i}.ts`)).toBe(i);
    await second.finish('Completed');
    const { doc } = await readChecked();
    expect(doc.userData).toBe('keep me');
    expect(doc.status).toBe('Completed');
    expect(doc.items.map((item) => item.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    await expect(InfoFileWriter.resume(storage, path)).rejects.toThrow(/Completed/);
  });

  it('resume repairs a file whose writer stopped in the middle of an append', async () => {
    const first = await InfoFileWriter.create(storage, path, { stream: '/v/a/s' });
    await first.append('/seg/0.ts');
    await first.close();
    // The state after step 2 of a patch: the opener became text, no comment is left.
    const text = (await readFile(path, 'latin1')).replace('<!--', ' !--');
    await writeFile(path, text);
    expect(XMLValidator.validate(text)).toBe(true);
    const second = await InfoFileWriter.resume(storage, path);
    expect(await second.append('/seg/1.ts')).toBe(1);
    const { text: after, doc } = await readChecked();
    expect(doc.items.map((item) => item.file)).toEqual(['/seg/0.ts', '/seg/1.ts']);
    expect(after).not.toContain(' !--');
    await second.close();
  });

  it('finish Completed, then appends and a second finish reject', async () => {
    const writer = await InfoFileWriter.create(storage, path, { stream: '/v/a/s' });
    await writer.append('/seg/0.ts');
    await writer.finish('Completed');
    expect(writer.status).toBe('Completed');
    const { text, doc } = await readChecked();
    expect(doc).toMatchObject({ status: 'Completed', items: [{ seq: 0, file: '/seg/0.ts' }] });
    expect(doc.error).toBeUndefined();
    expect(text).not.toContain('<!--');
    await expect(writer.append('/seg/1.ts')).rejects.toThrow(/finished/);
    await expect(writer.finish('Error', 'x')).rejects.toThrow();
    await writer.close();
    expect(await readdir(dir)).toEqual(['info.xml']);
  });

  it('finish lists its last Items in the final rewrite, after those appended, with their Seq', async () => {
    const writer = await InfoFileWriter.create(storage, path, { stream: '/v/a/s' });
    await writer.append('/seg/0.ts', new Date('2026-11-22T04:28:10.000Z'));
    const at = new Date('2026-11-22T04:28:11.500Z');
    const seqs = await writer.finish('Completed', undefined, [
      { file: '/out/r0.m3u8', time: at },
      { file: '/out/r1.m3u8', time: at },
    ]);
    expect(seqs).toEqual([1, 2]);
    const { text, doc } = await readChecked();
    expect(doc).toMatchObject({
      status: 'Completed',
      items: [
        { seq: 0, file: '/seg/0.ts' },
        { seq: 1, file: '/out/r0.m3u8', time: formatItemTime(at) },
        { seq: 2, file: '/out/r1.m3u8', time: formatItemTime(at) },
      ],
    });
    expect(text).not.toContain('<!--');
    await expect(
      InfoFileWriter.create(storage, join(dir, 'other.xml'), { stream: '/v/a/s' }).then((w) =>
        w.finish('Completed', undefined, [{ file: 'relative.m3u8', time: at }]),
      ),
    ).rejects.toThrow(/absolute path/);
  });

  it("prepareFinish makes the final version's file ahead: finish renames it into place, close removes it", async () => {
    const writer = await InfoFileWriter.create(storage, path, { stream: '/v/a/s' });
    await writer.append('/seg/0.ts');
    writer.prepareFinish();
    writer.prepareFinish(); // once: a second call makes nothing more
    await expect.poll(async () => (await readdir(dir)).length).toBe(2);
    const temporary = (await readdir(dir)).find((name) => name !== 'info.xml')!;
    expect(temporary).toMatch(/^\.info\.xml\.[0-9a-f]{12}\.tmp$/);
    const { ino } = await stat(join(dir, temporary));
    await writer.append('/seg/1.ts');
    await writer.finish('Completed', undefined, [
      { file: '/out/r0.m3u8', time: new Date('2026-11-22T04:28:11.500Z') },
    ]);
    expect((await stat(path)).ino).toBe(ino);
    expect(await readdir(dir)).toEqual(['info.xml']);
    const { text, doc } = await readChecked();
    expect(doc).toMatchObject({
      status: 'Completed',
      items: [
        { seq: 0, file: '/seg/0.ts' },
        { seq: 1, file: '/seg/1.ts' },
        { seq: 2, file: '/out/r0.m3u8' },
      ],
    });
    expect(text).not.toContain('<!--');

    // A writer that hands its file off unfinished leaves only the Running file.
    const other = join(dir, 'other.xml');
    const suspended = await InfoFileWriter.create(storage, other, { stream: '/v/a/s' });
    await suspended.append('/seg/0.ts');
    suspended.prepareFinish();
    await suspended.close();
    expect((await readdir(dir)).sort()).toEqual(['info.xml', 'other.xml']);
    expect(parseInfoFile(await readFile(other, 'latin1')).status).toBe('Running');
  });

  it('finish Error writes the reason', async () => {
    const writer = await InfoFileWriter.create(storage, path, { stream: '/v/a/s' });
    await writer.finish('Error', 'origin unreachable for 30 s');
    const { doc } = await readChecked();
    expect(doc).toEqual({
      stream: '/v/a/s',
      status: 'Error',
      error: 'origin unreachable for 30 s',
      items: [],
    });
    expect(writer.status).toBe('Error');
  });

  it('create on an existing file fails with STORAGE_EXISTS and leaves it alone', async () => {
    await writeFile(path, 'not mine');
    const error = await InfoFileWriter.create(storage, path, { stream: '/v/a/s' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_EXISTS');
    expect(await readFile(path, 'utf8')).toBe('not mine');
    expect(await readdir(dir)).toEqual(['info.xml']);
  });

  it('rejects relative paths and keeps Seq consecutive', async () => {
    const writer = await InfoFileWriter.create(storage, path, { stream: '/v/a/s' });
    await expect(writer.append('relative/a.ts')).rejects.toThrow(TypeError);
    expect(await writer.append('/a.ts')).toBe(0);
    await writer.close();
    await expect(writer.append('/b.ts')).rejects.toThrow(/closed/);
  });

  it('after a write fails half-way through an append, the next append rewrites a clean file', async () => {
    // Real disk underneath; only the chosen positional write is made to fail, as a full disk would.
    let writes = 0;
    let failAt = -1;
    const flaky = new PatchWriteStorage(async (write, file) => {
      if (++writes === failAt) throw new StorageError('STORAGE_FULL', file.path, 'disk full');
      await write();
    });
    const writer = await InfoFileWriter.create(flaky, path, { stream: '/v/a/s' });
    await writer.append('/seg/0.ts');
    failAt = writes + 3; // the third of the five writes: the Item is live, no comment is open
    await expect(writer.append('/seg/1.ts')).rejects.toThrow(StorageError);
    const torn = await readChecked(); // still well-formed in the state it was left in
    expect(torn.text).not.toContain('<!--');
    expect(await writer.append('/seg/2.ts')).toBe(1);
    const { text, doc } = await readChecked();
    expect(doc.items.map((item) => [item.seq, item.file])).toEqual([
      [0, '/seg/0.ts'],
      [1, '/seg/2.ts'],
    ]);
    expect(text).toMatch(/\n<!-- +-->\n {2}<\/Items>/);
    await writer.close();
  });
});
