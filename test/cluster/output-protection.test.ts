import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { originsFor, startCluster, type Cluster, type DumpStatusBody } from '../support/cluster.js';
import { readInfoFile } from '../support/info-file-check.js';

/**
 * Check 8 of docs/api.md#start-checks and the start body's extension fields, against a gateway and a worker as
 * processes: an outputPath another active dump writes to, one that holds files, one that is a
 * file, starts racing for the same path; and the list keeping every run of a reused id.
 */
describe('outputPath protection, extension fields, run history', () => {
  let origin: TestOrigin;
  let cluster: Cluster;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 2 });
    origin.addStream('app', 'prot', { windowSegments: 8 });
    cluster = await startCluster({
      workers: 1,
      origins: originsFor(origin.url),
      gatewayEnv: { CALLBACK_ALLOWED_HOSTS: 'hooks.example.test:8443' },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
  });

  const stop = async (id: string) =>
    expect((await cluster.stopDump({ stream: 'prot', id })).status).toBe(200);

  it('refuses an outputPath an active dump writes to, naming that dump, and one that holds files', async () => {
    onTestFailed(() => console.error(cluster.logs(10_000)));
    const outputPath = join(cluster.outputRoot, 'shared');
    const first = await cluster.startDump({ stream: 'prot', id: 'first', outputPath });
    expect(first.status, JSON.stringify(first.body)).toBe(200);

    const second = await cluster.startDump({
      stream: 'prot',
      id: 'second',
      outputPath,
      infoFile: join(cluster.outputRoot, 'second.xml'),
    });
    expect(second.status).toBe(400);
    expect(second.body).toEqual({
      statusCode: 400,
      message: `[HTTP] outputPath is used by an active dump: [default/app/prot/first] writes to ${outputPath} (400)`,
    });
    expect(existsSync(second.infoFile!)).toBe(false);

    await stop('first');
    // Ended: the path is free of dumps but holds the finished one's files, which stay untouched.
    const master = join(outputPath, 'llhls.m3u8');
    const before = (await readInfoFile(first.infoFile!)).items.length;
    const third = await cluster.startDump({
      stream: 'prot',
      id: 'third',
      outputPath,
      infoFile: join(cluster.outputRoot, 'third.xml'),
    });
    expect(third.status).toBe(400);
    expect(third.body.message).toBe(
      `[HTTP] outputPath already holds files: ${outputPath} (a dump never overwrites them; use an empty or new directory) (400)`,
    );
    expect(existsSync(master)).toBe(true);
    expect((await readInfoFile(first.infoFile!)).items.length).toBe(before);
    expect((await readInfoFile(first.infoFile!)).status).toBe('Completed');
  });

  it('refuses an outputPath that names a file, and takes an existing empty directory', async () => {
    const file = join(cluster.outputRoot, 'a-file');
    await writeFile(file, 'not a directory');
    const refused = await cluster.startDump({ stream: 'prot', id: 'file', outputPath: file });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe(
      `[HTTP] outputPath names an existing file, not a directory: ${file} (400)`,
    );

    const empty = join(cluster.outputRoot, 'empty');
    await mkdir(empty);
    const taken = await cluster.startDump({ stream: 'prot', id: 'empty', outputPath: empty });
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    await stop('empty');
  });

  it('of starts racing for one outputPath, exactly one wins; the others are refused naming it', async () => {
    onTestFailed(() => console.error(cluster.logs(10_000)));
    const outputPath = join(cluster.outputRoot, 'raced');
    const ids = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
    const results = await Promise.all(
      ids.map((id) =>
        cluster.startDump({
          stream: 'prot',
          id,
          outputPath,
          infoFile: join(cluster.outputRoot, `raced-${id}.xml`),
        }),
      ),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(
      winners.map((w) => w.id),
      JSON.stringify(results.map((r) => [r.id, r.status, r.body.message])),
    ).toHaveLength(1);
    const winner = winners[0]!;
    for (const loser of results.filter((r) => r !== winner)) {
      expect(loser.status).toBe(400);
      // Refused in Redis (named) or, if it came after the winner wrote, by the files it found.
      expect(loser.body.message).toMatch(
        new RegExp(
          `outputPath is used by an active dump: \\[default/app/prot/${winner.id}\\]|outputPath already holds files`,
        ),
      );
      expect(existsSync(loser.infoFile!), loser.id).toBe(false);
    }
    expect((await readInfoFile(winner.infoFile!)).status).toBe('Running');
    await stop(winner.id);
  });

  it('a wrong extension field is a 400 naming it, in OME’s body shape', async () => {
    const base = {
      outputStreamName: 'prot',
      id: 'bad',
      outputPath: join(cluster.outputRoot, 'bad'),
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ maxDurationSeconds: '60' }, 'maxDurationSeconds must be a number (seconds of media)'],
      [{ maxDurationSeconds: 0 }, 'maxDurationSeconds must be greater than 0'],
      [
        { from: 'yesterday' },
        'from must be "live", "window" or an ISO 8601 date and time with seconds and a zone (2026-12-01T04:00:00Z)',
      ],
      [{ callbackUrl: 42 }, 'callbackUrl must be an absolute http:// or https:// URL'],
      [
        { callbackUrl: 'file:///etc/passwd' },
        'callbackUrl must be an absolute http:// or https:// URL',
      ],
      [
        { callbackUrl: 'http://169.254.169.254/latest' },
        'callbackUrl host 169.254.169.254 is not in CALLBACK_ALLOWED_HOSTS',
      ],
      [
        { callbackUrl: 'https://hooks.example.test/x' },
        'callbackUrl host hooks.example.test is not in CALLBACK_ALLOWED_HOSTS',
      ],
    ];
    for (const [fields, text] of cases) {
      const result = await cluster.api('/v1/vhosts/default/apps/app/streams/prot:startHlsDump', {
        ...base,
        ...fields,
      });
      expect(result, JSON.stringify(fields)).toEqual({
        status: 400,
        body: { statusCode: 400, message: `[HTTP] ${text} (400)` },
      });
    }
    expect(existsSync(base.outputPath)).toBe(false);
  });

  it('lists every run of a reused id until its record expires', async () => {
    onTestFailed(() => console.error(cluster.logs(10_000)));
    const runs: string[] = [];
    for (let run = 0; run < 3; run++) {
      const started = await cluster.startDump({
        stream: 'prot',
        id: 'daily',
        userData: `run=${run}`,
      });
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      runs.push(started.outputPath);
      if (run < 2) await stop('daily');
    }
    const list = await cluster.api('/v1/vhosts/default/apps/app/streams/prot:hlsDumps', {
      outputStreamName: 'prot',
      id: 'daily',
    });
    const listed = list.body.response as (DumpStatusBody & { runId: string; userData: string })[];
    expect(listed.map((d) => [d.outputPath, d.status, d.userData])).toEqual([
      [runs[0], 'Completed', 'run=0'],
      [runs[1], 'Completed', 'run=1'],
      [runs[2], 'Running', 'run=2'],
    ]);
    expect(new Set(listed.map((d) => d.runId)).size).toBe(3);

    const status = await cluster.get('/v1/vhosts/default/apps/app/streams/prot/hlsDumps/daily');
    const body = status.body.response as DumpStatusBody & { runs: DumpStatusBody[] };
    expect(body.status).toBe('Running');
    expect(body.outputPath).toBe(runs[2]);
    expect(body.runs.map((r) => [r.outputPath, r.status])).toEqual([
      [runs[2], 'Running'],
      [runs[1], 'Completed'],
      [runs[0], 'Completed'],
    ]);
    await stop('daily');
  });
});
