import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { LocalStorage } from '@hlsdump/storage';
import { readInfoFile } from '../support/info-file-check.js';
import { startDump, tempDir } from '../support/dump-kit.js';

// The real disk, telling which folders a dump searched for temporary files left behind.
class SearchedFolders extends LocalStorage {
  readonly searched: string[] = [];

  override async removeTemporaries(dir: string, name?: string): Promise<string[]> {
    this.searched.push(dir);
    return super.removeTemporaries(dir, name);
  }
}

let origin: TestOrigin;
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  origin = await createTestOrigin({ speed: 8 });
  dir = await tempDir('end-listings');
});
afterAll(async () => {
  await origin?.close();
  await dir?.remove();
});

it('a dump that never changed hands ends without searching its folders, and leaves only its own files', async () => {
  const stream = origin.addStream('app', 'fresh', { windowSegments: 8 });
  // The infoFile's folder holds the infoFiles of many other dumps, as a platform's often does.
  const infoFolder = join(dir.path, 'infos');
  await mkdir(infoFolder);
  for (let i = 0; i < 500; i++)
    await writeFile(join(infoFolder, `other-${i}.xml`), '<HLSDumpInfo/>');
  const outputPath = join(dir.path, 'fresh');
  const infoFile = join(infoFolder, 'fresh.xml');
  const storage = new SearchedFolders();
  const run = await startDump(
    {
      originBaseUrl: new URL('.', stream.masterUrl).href,
      playlists: ['llhls.m3u8'],
      outputPath,
      infoFile,
      streamName: '/default/app/fresh',
    },
    { storage },
  );
  await run.segmentsWritten(3);
  const result = await run.dump.stop();
  await run.close();

  expect(result.status).toBe('Completed');
  expect(storage.searched).toEqual([]);
  // Its own temporaries (the final files' prepared writes) were all used: nothing hidden is left.
  const info = await readInfoFile(infoFile);
  expect(info.status).toBe('Completed');
  const listed = new Set(info.items.map((item) => item.file));
  const onDisk = await readdir(outputPath);
  expect(onDisk.filter((name) => name.startsWith('.'))).toEqual([]);
  for (const name of onDisk) expect(listed.has(join(outputPath, name)), name).toBe(true);
  expect((await readdir(infoFolder)).filter((name) => name.startsWith('.'))).toEqual([]);
});
