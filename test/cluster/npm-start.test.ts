import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURL_AVAILABLE, parseCurlLine, runCurlLine } from '../support/curl-line.js';
import { tempDir } from '../support/dump-kit.js';
import { ffprobe } from '../support/ffprobe.js';
import { expectConsistentItems, readInfoFile } from '../support/info-file-check.js';
import { commandLine, descendants, isAlive } from '../support/process-tree.js';
import { REPO_ROOT, spawnNode, type Spawned } from '../support/spawn-node.js';
import { waitFor } from '../support/wait-for.js';

const MAIN = join(REPO_ROOT, 'services/all-in-one/dist/main.js');

/** `npm start` as an operator meets it: one command, then the printed curl lines, pasted. */
describe('npm start (services/all-in-one)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const started: Spawned[] = [];

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npx turbo run build first`);
    dir = await tempDir('npm-start');
  });
  afterAll(async () => {
    for (const s of started)
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await dir?.remove();
  });

  it('runs Redis, gateway, worker and a demo origin; its printed curl lines record a playable dump; SIGTERM leaves nothing behind', async () => {
    const logDir = join(dir.path, 'logs');
    const app = spawnNode(
      MAIN,
      [],
      // A fast demo clock (4 s segments in 1 s) and any free API port; everything else default.
      { PORT: '0', HLSDUMP_DEMO_SPEED: '4', HLSDUMP_LOG_DIR: logDir, OUTPUT_ROOTS: '' },
      { cwd: dir.path },
    );
    started.push(app);
    await app.waitForOutput(/Ctrl-C stops everything/);
    const out = app.output();
    const curls = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('curl '));
    const line = (pattern: RegExp): string => {
      const found = curls.find((l) => pattern.test(l));
      if (!found) throw new Error(`no curl line matching ${pattern} in:\n${out}`);
      return found;
    };
    const startLine = line(/:startHlsDump'$/);
    const stopLine = line(/:stopHlsDump'$/);
    const statusLine = line(/\/hlsDumps\/[^/']+'$/);
    expect(out).toMatch(/Access token {2}hlsdump:[0-9a-f]{24}/);
    expect(out).toContain(`"origin": "http://127.0.0.1:`);
    // The start line's body: the demo stream, an outputPath and infoFile under ./dumps.
    const start = parseCurlLine(startLine);
    expect(start.headers.authorization).toMatch(/^Basic [A-Za-z0-9+/=]+$/);
    const body = JSON.parse(start.data ?? '{}') as {
      outputStreamName: string;
      id: string;
      outputPath: string;
      infoFile: string;
    };
    expect(body.outputStreamName).toBe('stream');
    expect(body.outputPath.startsWith(join(dir.path, 'dumps') + '/')).toBe(true);
    expect(body.infoFile.startsWith(join(dir.path, 'dumps') + '/')).toBe(true);
    // Child logs go to files, not to the console.
    expect(out).not.toMatch(/^\{"level"/m);
    for (const file of ['redis.log', 'gateway.log', 'worker.log'])
      expect(existsSync(join(logDir, file)), file).toBe(true);
    const children = descendants(app.child.pid!);
    const commands = children.map(commandLine);
    expect(commands, 'redis-server, gateway, worker').toHaveLength(3);
    for (const pattern of [/redis-server/, /gateway\/dist\/main\.js$/, /worker\/dist\/main\.js$/])
      expect(
        commands.filter((c) => pattern.test(c)),
        `${pattern}: ${commands.join(' | ')}`,
      ).toHaveLength(1);

    const started1 = await runCurlLine(startLine);
    expect(started1.via).toBe(CURL_AVAILABLE ? 'curl' : 'fetch');
    expect(started1.body, app.output()).toEqual({
      statusCode: 200,
      message: 'OK',
      response: ['stream'],
    });
    const running = await waitFor(
      'the dump to record 3 segments per rendition',
      async () => {
        const { body: status } = await runCurlLine(statusLine);
        const dump = status.response as { status: string; renditions: { segments: number }[] };
        return (
          dump.renditions.length === 3 && dump.renditions.every((r) => r.segments >= 3) && dump
        );
      },
      { timeoutMs: 20_000, intervalMs: 250, details: () => app.output() },
    );
    expect(running.status).toBe('Running');
    const stopped = await runCurlLine(stopLine);
    expect(stopped.body).toEqual({ statusCode: 200, message: 'OK', response: ['stream'] });

    const probe = await ffprobe(join(body.outputPath, 'llhls.m3u8'));
    expect(probe.streams.map((s) => s.codec_type)).toEqual(
      expect.arrayContaining(['audio', 'video']),
    );
    expect(probe.durationSeconds).toBeGreaterThanOrEqual(3 * 4 - 0.5);
    const info = await readInfoFile(body.infoFile);
    expect(info.status).toBe('Completed');
    expect(info.stream).toBe('/default/app/stream');
    expectConsistentItems(info);

    // A second dump left running: shutting down finalizes it before anything stops.
    const secondLine = startLine.replaceAll(body.id, `${body.id}-b`);
    expect((await runCurlLine(secondLine)).body.statusCode).toBe(200);
    app.child.kill('SIGTERM');
    const exit = await app.exited;
    expect(exit, app.output()).toEqual({ code: 0, signal: null });
    const leftovers = children.filter(isAlive);
    expect(leftovers.map(commandLine), 'no child process outlives npm start').toEqual([]);
    const second = await readInfoFile(
      `${body.outputPath}-b${body.infoFile.slice(body.outputPath.length)}`,
    );
    expect(second.status).toBe('Completed');
    expectConsistentItems(second);
  });

  it('exits non-zero with how to install Redis when redis-server is missing', async () => {
    const app = spawnNode(
      MAIN,
      [],
      {
        PORT: '0',
        REDIS_SERVER_BIN: join(dir.path, 'no-redis-server'),
        HLSDUMP_LOG_DIR: join(dir.path, 'logs2'),
      },
      { cwd: dir.path },
    );
    started.push(app);
    const exit = await app.exited;
    expect(exit.code, app.output()).toBe(1);
    expect(app.output()).toContain('apt-get install redis-server');
    expect(app.output()).toContain('REDIS_URL');
  });
});
