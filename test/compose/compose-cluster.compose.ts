import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from '@hlsdump/contracts';
import { createTestOrigin, type StreamControl, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DumpStatusBody } from '../support/cluster.js';
import { baseName, readChunklist, tempDir } from '../support/dump-kit.js';
import { readInfoFile } from '../support/info-file-check.js';
import { REPO_ROOT } from '../support/spawn-node.js';
import { waitFor } from '../support/wait-for.js';
import {
  checkEngine,
  containersOf,
  driveHealthchecks,
  ensureBaseImages,
  healthOf,
  NODE_IMAGE,
  podman,
  startPodmanService,
} from './podman-engine.js';

const run = promisify(execFile);

/**
 * docker-compose.yml really running, on Podman: images built from the project's Dockerfile on a
 * locally built base, `docker-compose up`, a dump started through the published port, the worker
 * container that runs it killed, the dump goes on in the other one, stopped, and the files checked
 * on the host against the origin's bytes. Its own command (`npm run test:compose`), not CI's:
 * building the images takes minutes. Where the engine is unusable it fails and says why.
 */
const log = (line: string): void => void process.stdout.write(`[compose] ${line}\n`);

describe('the compose cluster on Podman', () => {
  // One name across runs: images keep their tags and a run's leftovers are cleared by the next.
  const project = 'hlsdumpcomposetest';
  const accessToken = `compose:${randomBytes(16).toString('hex')}`;
  const authorization = `Basic ${Buffer.from(accessToken).toString('base64')}`;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let dumpsDir: string;
  let service: Awaited<ReturnType<typeof startPodmanService>> | undefined;
  let healthchecks: ReturnType<typeof driveHealthchecks> | undefined;
  let composeEnv: NodeJS.ProcessEnv;
  let composeFiles: string[];
  let apiUrl: string;
  let origin: TestOrigin | undefined;

  const compose = async (args: string[], timeoutMs = 120_000): Promise<string> => {
    try {
      const { stdout, stderr } = await run(
        'docker-compose',
        ['-p', project, ...composeFiles.flatMap((f) => ['-f', f]), ...args],
        { cwd: REPO_ROOT, env: composeEnv, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
      );
      return `${stdout}${stderr}`;
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(
        `docker-compose ${args.join(' ')} failed: ${(error as Error).message}\n${stdout.slice(-4_000)}\n${stderr.slice(-4_000)}`,
      );
    }
  };
  const logsOf = async (): Promise<string> => {
    try {
      return (await compose(['logs', '--no-color', '--tail', '40'], 60_000)).slice(-12_000);
    } catch (error) {
      return `(no logs: ${(error as Error).message})`;
    }
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { response?: unknown } & Record<string, unknown>,
    };
  };

  // A setup failure (an unusable engine above all) fails the test itself, loudly, rather than
  // leaving it counted as skipped.
  let setupError: unknown;
  beforeAll(async () => {
    try {
      await setUp();
    } catch (error) {
      setupError = error;
    }
  }, 1_800_000);

  async function setUp(): Promise<void> {
    await checkEngine();
    await ensureBaseImages(log);
    work = await tempDir('compose');
    // The dumps volume is a host directory here, so the files can be checked where they land;
    // the image's `node` user (uid 1000) writes them.
    dumpsDir = join(work.path, 'dumps');
    await mkdir(dumpsDir);
    await chown(dumpsDir, 1000, 1000);
    const override = join(work.path, 'compose.test.yml');
    await writeFile(
      override,
      [
        'services:',
        '  gateway:',
        `    volumes: ['${dumpsDir}:/dumps']`,
        '  worker:',
        `    volumes: ['${dumpsDir}:/dumps']`,
        '    environment:',
        // A killed worker's dumps are taken over within about 5 + 2 s (the origin keeps 40 s).
        "      LOCK_DURATION_MS: '5000'",
        "      STALLED_INTERVAL_MS: '2000'",
        '',
      ].join('\n'),
    );
    composeFiles = ['docker-compose.yml', 'deploy/podman/compose.podman.yml', override];
    service = await startPodmanService(join(work.path, 'podman.sock'));
    const port = await findFreePort();
    apiUrl = `http://127.0.0.1:${port}`;
    composeEnv = {
      ...process.env,
      DOCKER_HOST: service.dockerHost,
      ACCESS_TOKEN: accessToken,
      HLSDUMP_PORT: String(port),
      NODE_IMAGE,
      COMPOSE_HTTP_TIMEOUT: '600',
    };
    healthchecks = driveHealthchecks(project);
    await compose(['down', '-v', '--timeout', '5'], 300_000);
    log(
      `project ${project}: building the images and starting (several minutes on a cold cache) ...`,
    );
    const started = Date.now();
    await compose(['up', '-d', '--build'], 1_500_000);
    log(
      `docker-compose up done in ${((Date.now() - started) / 1000).toFixed(0)} s; API on ${apiUrl}`,
    );
    // The same stream the compose origin serves (its defaults): its bytes are a pure function of
    // the segment number, so a host-side twin gives the origin's bytes to compare with.
    origin = await createTestOrigin();
  }

  afterAll(async () => {
    if (composeFiles && service) {
      await compose(['down', '-v', '--timeout', '5'], 300_000).catch((error: unknown) =>
        log(`down failed: ${(error as Error).message}`),
      );
    }
    await healthchecks?.stop();
    await service?.stop();
    await origin?.close();
    await work?.remove();
  }, 400_000);

  it('a dump survives the kill of its worker container and lands on the host byte-exact', async () => {
    if (setupError) throw setupError;
    const context = async () => `\n${await logsOf()}`;
    await waitFor(
      'the gateway to be ready on the published port',
      async () => (await fetch(`${apiUrl}/readyz`)).ok,
      {
        timeoutMs: 120_000,
        intervalMs: 1_000,
      },
    ).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}${await context()}`);
    });
    // No well-known token: a wrong one is refused.
    const refused = await fetch(`${apiUrl}/v1/vhosts/default/apps/app/streams`, {
      headers: { authorization: `Basic ${Buffer.from('admin:hlsdump').toString('base64')}` },
    });
    expect(refused.status).toBe(401);

    const id = `compose-${randomBytes(3).toString('hex')}`;
    const streamPath = '/v1/vhosts/default/apps/app/streams/stream';
    const start = await api('POST', `${streamPath}:startHlsDump`, {
      outputStreamName: 'stream',
      id,
      outputPath: `/dumps/${id}`,
      infoFile: `/dumps/${id}.xml`,
    });
    expect(start.status, `${JSON.stringify(start.body)}${await context()}`).toBe(200);
    const statusOf = async () =>
      (await api('GET', `${streamPath}/hlsDumps/${id}`)).body.response as
        DumpStatusBody | undefined;
    const segments = (s: DumpStatusBody | undefined) =>
      s && s.renditions.length > 0 ? Math.min(...s.renditions.map((r) => r.segments)) : 0;
    const recorded = (count: number) =>
      waitFor(
        `${id} to record ${count} segments per rendition`,
        async () => segments(await statusOf()) >= count,
        {
          timeoutMs: 90_000,
          intervalMs: 500,
        },
      );

    await recorded(2);
    const owner = (await statusOf())!.owner!;
    const workers = await containersOf(project, 'worker');
    expect(workers).toHaveLength(2);
    // WORKER_ID defaults to <hostname>-<pid>; a container's hostname is its short id.
    const victim = workers.find((w) => owner.startsWith(w.id.slice(0, 12)));
    expect(victim, `the container of ${owner} among ${JSON.stringify(workers)}`).toBeDefined();
    log(`killing ${victim!.name}, which runs ${id} (${owner})`);
    const killedAt = Date.now();
    await podman(['kill', '--signal', 'KILL', victim!.id]);
    const survivor = await waitFor(
      'another worker container to run the dump',
      async () => {
        const s = await statusOf();
        return s?.status === 'Running' && s.owner !== owner ? s.owner : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const failoverMs = Date.now() - killedAt;
    log(`the dump went on in ${survivor} after ${failoverMs} ms`);
    const atTakeover = segments(await statusOf());
    await recorded(atTakeover + 3);
    const stop = await api('POST', `${streamPath}:stopHlsDump`, { outputStreamName: 'stream', id });
    expect(stop.status, JSON.stringify(stop.body)).toBe(200);
    const final = (await statusOf())!;
    expect(final.status).toBe('Completed');
    expect(final.gaps).toBe(0);

    // On the host: every segment and init byte-equal to the origin's, no segment missing.
    // The twin serves the same stream under the compose origin's stream key (random per start).
    const outputPath = join(dumpsDir, id);
    const listed = await readdir(outputPath);
    const streamKey = listed
      .map((file) => /^chunklist_\d+_(?:video|audio)_([^_]+)_llhls\.m3u8$/.exec(file)?.[1])
      .find((key) => key !== undefined);
    expect(streamKey, `a chunklist among ${listed.join(' ')}`).toBeDefined();
    const stream: StreamControl = origin!.addStream('app', 'stream', { streamKey: streamKey! });
    let compared = 0;
    for (const rendition of stream.renditions) {
      const { text, details } = await readChunklist(
        join(outputPath, baseName(stream.chunklistUrl(rendition.id))),
      );
      expect(text.trimEnd().endsWith('#EXT-X-ENDLIST'), rendition.id).toBe(true);
      expect(text, rendition.id).not.toContain('#EXT-X-DISCONTINUITY\n');
      const msns = details.segments.map((s) => Number(/seg_\d+_(\d+)_/.exec(baseName(s.uri))![1]));
      expect(msns.length, rendition.id).toBeGreaterThanOrEqual(atTakeover + 3);
      expect(msns, `${rendition.id}: consecutive`).toEqual(msns.map((_, i) => msns[0]! + i));
      for (const [index, segment] of details.segments.entries()) {
        const bytes = await readFile(join(outputPath, baseName(segment.uri)));
        expect(
          bytes.equals(stream.segmentBytes(rendition.id, msns[index]!)),
          `${rendition.id} ${msns[index]}`,
        ).toBe(true);
        compared++;
      }
      const init = details.segments[0]!.map?.uri;
      if (init)
        expect(
          (await readFile(join(outputPath, baseName(init)))).equals(stream.initBytes(rendition.id)),
        ).toBe(true);
    }
    const info = await readInfoFile(join(dumpsDir, `${id}.xml`));
    expect(info.status).toBe('Completed');
    expect(info.items.map((item) => item.seq)).toEqual(info.items.map((_, i) => i));
    for (const item of info.items)
      expect(existsSync(item.file.replace(/^\/dumps\//, `${dumpsDir}/`)), item.file).toBe(true);
    const files = await readdir(outputPath);
    log(
      `${id}: ${compared} segments byte-equal to the origin's over ${stream.renditions.length} renditions, ` +
        `${files.length} files, infoFile Completed with ${info.items.length} Items, failover ${failoverMs} ms, 0 gaps`,
    );

    // Every worker container left reports healthy through its /readyz on METRICS_PORT.
    const left = (await containersOf(project, 'worker')).filter((w) => w.id !== victim!.id);
    for (const worker of left)
      await waitFor(
        `${worker.name} to be healthy`,
        async () => (await healthOf(worker.id)) === 'healthy',
        {
          timeoutMs: 60_000,
          intervalMs: 1_000,
          details: () => `health of ${worker.name}`,
        },
      );
    log(`worker healthcheck: ${left.map((w) => w.name).join(', ')} healthy`);
  }, 600_000);
});
