import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathLookups } from './path-lookups.js';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'hlsdump-lookups-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('PathLookups', () => {
  it('joins a lookup another request has in flight', async () => {
    const [first, second] = await Promise.all([
      new PathLookups().lstat(tmp),
      new PathLookups().lstat(tmp),
    ]);
    expect(first?.isDirectory()).toBe(true);
    // One lstat answered both: the same Stats object.
    expect(second).toBe(first);
  });

  it('looks again once the lookup is answered, and sees what changed since', async () => {
    const path = join(tmp, 'made-between');
    const before = await new PathLookups().lstatOrMissing(path);
    expect(before).toBe('ENOENT');
    await mkdir(path);
    const after = await new PathLookups().lstat(path);
    expect(after?.isDirectory()).toBe(true);
    const again = await new PathLookups().lstat(path);
    expect(again).not.toBe(after);
  });

  it('keeps its own answers for the rest of its request', async () => {
    const lookups = new PathLookups();
    const path = join(tmp, 'made-during');
    expect(await lookups.lstatOrMissing(path)).toBe('ENOENT');
    await mkdir(path);
    // The request's checks judge one state of the file system, not two.
    expect(await lookups.lstatOrMissing(path)).toBe('ENOENT');
  });
});
