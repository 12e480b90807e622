import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathPolicyError } from './errors.js';
import { OutputRoots, checkPlaylistName } from './path-policy.js';

let tmp: string;
let root: string;
let roots: OutputRoots;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'hlsdump-paths-'));
  root = join(tmp, 'root');
  await mkdir(join(root, 'inside'), { recursive: true });
  await mkdir(join(tmp, 'outside'));
  await symlink(join(tmp, 'outside'), join(root, 'out-link'));
  await symlink(join(tmp, 'nowhere'), join(root, 'dangling'));
  await symlink(join(root, 'inside'), join(root, 'in-link'));
  // A root given through a symlink is judged by its real path.
  await symlink(root, join(tmp, 'root-alias'));
  roots = await OutputRoots.create([join(tmp, 'root-alias'), join(tmp, 'second')]);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const alias = (...parts: string[]) => join(tmp, 'root-alias', ...parts);

describe('OutputRoots', () => {
  it('accepts paths inside a root, existing or not, and the root itself for a directory', async () => {
    expect(await roots.check('outputPath', alias('inside', 'new', 'dir'), 'directory')).toBe(
      alias('inside', 'new', 'dir'),
    );
    expect(await roots.check('outputPath', alias(), 'directory')).toBe(alias());
    expect(await roots.check('outputPath', join(tmp, 'second', 'not', 'yet'), 'directory')).toBe(
      join(tmp, 'second', 'not', 'yet'),
    );
    expect(await roots.check('infoFile', alias('in-link', 'info.xml'), 'file')).toBe(
      alias('in-link', 'info.xml'),
    );
  });

  it('resolves .. before judging', async () => {
    expect(await roots.check('outputPath', alias('inside', '..', 'x'), 'directory')).toBe(
      alias('x'),
    );
    await expect(roots.check('outputPath', alias('..', 'outside'), 'directory')).rejects.toThrow(
      'outputPath is outside the allowed output roots',
    );
  });

  it.each([
    [
      'a sibling with a common prefix',
      () => `${alias()}-evil/x`,
      'outputPath is outside the allowed output roots',
    ],
    [
      'a symlink pointing out',
      () => alias('out-link', 'x'),
      'outputPath is outside the allowed output roots (through a symbolic link)',
    ],
    [
      'a dangling symlink',
      () => alias('dangling', 'x'),
      'outputPath is outside the allowed output roots (through a symbolic link)',
    ],
    ['a relative path', () => 'root/x', 'outputPath must be an absolute path'],
    ['a NUL', () => alias('a\0b'), 'outputPath must not contain NUL characters'],
  ])('refuses %s', async (_what, path, message) => {
    await expect(roots.check('outputPath', path(), 'directory')).rejects.toThrow(
      new PathPolicyError(message),
    );
  });

  it('refuses a root itself as an infoFile', async () => {
    await expect(roots.check('infoFile', alias(), 'file')).rejects.toThrow(
      'infoFile is outside the allowed output roots',
    );
  });
});

describe('checkPlaylistName', () => {
  it.each(['llhls.m3u8', 'abr.m3u8', 'my playlist.m3u8', 'a.b.m3u8'])('accepts %s', (name) => {
    expect(() => checkPlaylistName(name)).not.toThrow();
  });
  it.each([
    '',
    '.m3u8',
    'a/b.m3u8',
    'a\\b.m3u8',
    '..m3u8',
    'x/../y.m3u8',
    'a\0.m3u8',
    'llhls.m3u',
    'llhls',
  ])('refuses %j', (name) => {
    expect(() => checkPlaylistName(name)).toThrow(PathPolicyError);
  });
});
