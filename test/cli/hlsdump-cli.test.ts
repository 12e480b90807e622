import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { ffprobe } from '../support/ffprobe.js';
import { expectConsistentItems, readInfoFile } from '../support/info-file-check.js';
import { tempDir } from '../support/dump-kit.js';
import { REPO_ROOT, spawnNode } from '../support/spawn-node.js';

// The bin npm links as `hlsdump` (npx hlsdump), which runs the built dist/main.js.
const CLI = join(REPO_ROOT, 'services/cli/bin/hlsdump.js');

describe('the hlsdump command line', () => {
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'services/cli/dist/main.js')))
      throw new Error('run npm run build first');
    origin = await createTestOrigin({ speed: 4 });
    dir = await tempDir('cli');
  });
  afterAll(async () => {
    await origin?.close();
    await dir?.remove();
  });

  it('records for --duration seconds, then exits 0 with a playable dump and a Completed infoFile', async () => {
    const stream = origin.addStream('app', 'timed', { windowSegments: 6 });
    const out = join(dir.path, 'timed');
    const infoFile = join(out, 'info.xml');
    const cli = spawnNode(CLI, [
      'dump',
      stream.masterUrl,
      '--out',
      out,
      '--playlist',
      'abr.m3u8',
      '--info-file',
      infoFile,
      '--user-data',
      'job=7',
      '--duration',
      '4',
    ]);
    const { code } = await cli.exited;
    expect(code, cli.output()).toBe(0);
    expect(cli.output()).toMatch(/completed: \d+ files/);
    const info = await readInfoFile(infoFile);
    expect(info.status).toBe('Completed');
    expect(info.userData).toBe('job=7');
    expectConsistentItems(info);
    expect((await readdir(out)).filter((f) => f.startsWith('seg_')).length).toBeGreaterThanOrEqual(
      3,
    );
    const probe = await ffprobe(join(out, 'llhls.m3u8'));
    expect(probe.durationSeconds).toBeGreaterThan(0);
  });

  it('Ctrl-C finalizes the dump and exits 0', async () => {
    const stream = origin.addStream('app', 'interrupted', { windowSegments: 6 });
    const out = join(dir.path, 'interrupted');
    const cli = spawnNode(CLI, [
      'dump',
      stream.masterUrl,
      '--out',
      out,
      '--info-file',
      join(out, 'info.xml'),
    ]);
    await cli.waitForOutput(/recording/);
    await stream.waitForSegment(stream.status('video_0').completeSegments + 1);
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    expect(code, cli.output()).toBe(0);
    expect((await readInfoFile(join(out, 'info.xml'))).status).toBe('Completed');
  });

  it('exits non-zero with the reason when the dump cannot start', async () => {
    const cli = spawnNode(CLI, [
      'dump',
      `${origin.url}/app/nosuchstream/llhls.m3u8`,
      '--out',
      join(dir.path, 'none'),
    ]);
    const { code } = await cli.exited;
    expect(code).toBe(1);
    expect(cli.output()).toMatch(/cannot start: .*404/);
  });

  it('exits 2 with the usage on bad arguments', async () => {
    const cli = spawnNode(CLI, ['dump', 'http://127.0.0.1:1/x.m3u8']);
    const { code } = await cli.exited;
    expect(code).toBe(2);
    expect(cli.output()).toContain('--out DIR is required');
    expect(cli.output()).toContain('Usage: hlsdump dump');
  });
});
