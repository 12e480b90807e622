import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeStream, serveFileOrigin } from '@hlsdump/test-origin';
import { expectCopiedBytes } from '../support/copied-bytes.js';
import { startDump, tempDir } from '../support/dump-kit.js';

/** Python's http.server: a plain static server that answers every request whole (no Range). */
async function pythonHttpServer(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '0'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /port (\d+)/.exec(output)?.[1];
      if (port !== undefined) resolve(`http://127.0.0.1:${port}/`);
    });
    child.once('exit', (code) => reject(new Error(`http.server exited (${code})`)));
  });
  return { url, child };
}

describe('byte-range playlists against an origin that ignores Range', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('ends the dump in Error, naming the origin that does not serve byte ranges', async () => {
    const made = await makeStream('byte-range');
    cleanups.push(made.remove);
    const server = await pythonHttpServer(made.dir);
    cleanups.push(() => void server.child.kill());
    const dir = await tempDir('range-ignored');
    cleanups.push(dir.remove);
    const run = await startDump({
      originBaseUrl: server.url,
      playlists: [made.master],
      outputPath: join(dir.path, 'out'),
      streamName: '/default/app/range',
    });
    const result = await run.dump.done;
    await run.close();
    expect(result.status).toBe('Error');
    expect(result.error?.code).toBe('ORIGIN_RANGE_IGNORED');
    expect(result.error?.message).toMatch(/does not serve byte ranges/);
  });

  it('the same stream from an origin that serves ranges is copied whole', async () => {
    // The counterpart, so the Error above is the origin's doing and not the stream's.
    const made = await makeStream('byte-range');
    cleanups.push(made.remove);
    const served = await serveFileOrigin(made.dir);
    cleanups.push(served.close);
    const dir = await tempDir('range-served');
    cleanups.push(dir.remove);
    const outputPath = join(dir.path, 'out');
    const run = await startDump({
      originBaseUrl: served.baseUrl,
      playlists: [made.master],
      outputPath,
      streamName: '/default/app/range',
    });
    const result = await run.dump.done;
    await run.close();
    expect(result.status).toBe('Completed');
    const copied = await expectCopiedBytes(made.dir, outputPath);
    expect(copied.segments).toBeGreaterThanOrEqual(6);
    expect(served.requests.filter((r) => r.range !== undefined).length).toBe(copied.segments + 1);
  });
});
