import { existsSync } from 'node:fs';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dumpKeyOf, jobIdFor, newRunId } from '@hlsdump/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, startPath, type Harness } from './gateway-harness.test-support.js';
import type { ProtocolWorker } from './protocol-worker.test-support.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ START_TIMEOUT_MS: '1500', BODY_LIMIT_BYTES: '4096' });
  h.origin.streams.add('/app/stream_o/llhls.m3u8');
  h.origin.streams.add('/app/stream.with-dots_and-dashes/llhls.m3u8');
  h.origin.streams.add('/app/stream_o/abr.m3u8');
});
afterAll(async () => {
  await h?.close();
});

const valid = (overrides: Record<string, unknown> = {}) => ({
  outputStreamName: 'stream_o',
  id: `dump-${newRunId()}`,
  outputPath: join(h.root, `out-${newRunId()}`),
  ...overrides,
});

function expectError(
  res: { status: number; body: Record<string, unknown>; headers: Headers },
  status: number,
  text: string,
) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  expect(res.body).toEqual({ statusCode: status, message: `[HTTP] ${text} (${status})` });
}

describe('check 1: the body', () => {
  it.each([
    ['an array', '[1,2]', 'Request body must be a JSON object, not an array'],
    ['a string', '"hello"', 'Request body must be a JSON object, not a string'],
    ['a number', '42', 'Request body must be a JSON object, not a number'],
    ['null', 'null', 'Request body must be a JSON object, not null'],
  ])('rejects %s', async (_what, raw, text) => {
    expectError(await h.post(startPath(), undefined, { raw }), 400, text);
  });

  it('rejects an empty body', async () => {
    expectError(await h.post(startPath()), 400, 'Request body must be a JSON object; it is empty');
  });

  it('rejects invalid JSON with a JSON body', async () => {
    expectError(
      await h.post(startPath(), undefined, { raw: '{"id": ' }),
      400,
      'Invalid JSON in request body',
    );
  });

  it('rejects a body over the limit with a JSON body', async () => {
    const res = await h.post(startPath(), valid({ userData: 'x'.repeat(10_000) }));
    expectError(res, 413, 'Request body is larger than 4096 bytes');
  });

  it.each([
    ['outputStreamName', 5, 'outputStreamName must be a string'],
    ['id', { a: 1 }, 'id must be a string'],
    ['outputPath', ['/x'], 'outputPath must be a string'],
    ['infoFile', true, 'infoFile must be a string'],
    ['userData', 12, 'userData must be a string'],
    ['playlist', 'llhls.m3u8', 'playlist must be an array of strings'],
    ['playlist', ['llhls.m3u8', 3], 'playlist must be an array of strings'],
  ])('names the field %s when its type is wrong', async (field, value, text) => {
    expectError(await h.post(startPath(), valid({ [field]: value })), 400, text);
  });

  it('judges the body before the vhost', async () => {
    expectError(
      await h.post(startPath('s', 'nope'), undefined, { raw: '[]' }),
      400,
      'Request body must be a JSON object, not an array',
    );
  });
});

describe('checks 2–4: vhost, app, required fields', () => {
  it('404s an unknown vhost', async () => {
    expectError(
      await h.post(startPath('stream', 'nope'), valid()),
      404,
      'Could not find the virtual host: [nope]',
    );
  });

  it('404s an unknown app', async () => {
    expectError(
      await h.post(startPath('stream', 'default', 'nope'), valid()),
      404,
      'Could not find the application: [default/nope]',
    );
  });

  it('treats Object prototype names as unknown', async () => {
    expectError(
      await h.post(startPath('stream', 'constructor'), valid()),
      404,
      'Could not find the virtual host: [constructor]',
    );
  });

  it('checks the app before the required fields', async () => {
    expectError(
      await h.post(startPath('stream', 'default', 'nope'), {}),
      404,
      'Could not find the application: [default/nope]',
    );
  });

  it.each(['outputStreamName', 'id', 'outputPath'])('400s without %s', async (field) => {
    const body: Record<string, unknown> = valid();
    delete body[field];
    expectError(
      await h.post(startPath(), body),
      400,
      'id, outputStreamName and outputPath are required',
    );
  });
});

describe('check 5: the stream at the origin', () => {
  it('404s an output stream the origin does not have', async () => {
    expectError(
      await h.post(startPath(), valid({ outputStreamName: 'missing' })),
      404,
      'Could not find output stream: [default/app/missing]',
    );
    expect(h.origin.requests).toContain('/app/missing/llhls.m3u8');
  });

  it('asks the origin for the first playlist given', async () => {
    expectError(
      await h.post(startPath(), valid({ playlist: ['nothere.m3u8', 'llhls.m3u8'] })),
      404,
      'Could not find output stream: [default/app/stream_o]',
    );
    expect(h.origin.requests).toContain('/app/stream_o/nothere.m3u8');
  });

  it.each([
    ['a slash', 'a/b.m3u8'],
    ['dot-dot', '..m3u8'],
    ['a traversal', '../../etc/passwd.m3u8'],
    ['a backslash', 'a\\b.m3u8'],
    ['an empty name', ''],
    ['a NUL', 'a\u0000.m3u8'],
    ['no .m3u8', 'llhls.txt'],
  ])('400s a playlist entry with %s, before asking the origin', async (_what, name) => {
    const before = h.origin.requests.length;
    expectError(
      await h.post(startPath(), valid({ playlist: [name] })),
      400,
      `playlist entries must be plain file names ending in .m3u8: ${JSON.stringify(name)}`,
    );
    expect(h.origin.requests.length).toBe(before);
  });

  it('502s an origin that cannot be reached', async () => {
    const { startHarness: start } = await import('./gateway-harness.test-support.js');
    const other = await start({}, h.redis);
    try {
      await other.origin.close();
      const res = await other.post(startPath(), valid());
      expect(res.status).toBe(502);
      expect(res.body.message).toMatch(
        /^\[HTTP\] Could not reach the origin \(ECONNREFUSED\): http:\/\/127\.0\.0\.1:\d+\/app\/stream_o\/llhls\.m3u8 \(502\)$/,
      );
    } finally {
      await other.close();
    }
  });
});

describe('check 6: duplicates', () => {
  it('400s an id an active dump holds on the output stream', async () => {
    const body = valid();
    const dumpKey = dumpKeyOf({
      vhost: 'default',
      app: 'app',
      outputStreamName: 'stream_o',
      id: body.id,
    });
    const runId = newRunId();
    await h.gateway.registry.reserve({
      vhost: 'default',
      app: 'app',
      stream: 'stream',
      outputStreamName: 'stream_o',
      id: body.id,
      outputPath: body.outputPath,
      playlists: ['llhls.m3u8'],
      originBaseUrl: 'http://x/',
      dumpKey,
      runId,
      jobId: jobIdFor(dumpKey, runId),
    });
    expectError(await h.post(startPath(), body), 400, 'Duplicate ID');
    // Duplicate before the path policy (the order of docs/api.md#start-checks): even with an outputPath outside the roots.
    expectError(await h.post(startPath(), { ...body, outputPath: '/etc' }), 400, 'Duplicate ID');
  });

  it('400s an infoFile that exists on disk', async () => {
    const infoFile = join(h.root, 'exists.xml');
    await writeFile(infoFile, '<x/>');
    expectError(await h.post(startPath(), valid({ infoFile })), 400, 'Duplicate info file');
  });

  it('400s an infoFile an active dump holds', async () => {
    const infoFile = join(h.root, 'held.xml');
    const dumpKey = dumpKeyOf({
      vhost: 'default',
      app: 'app',
      outputStreamName: 'other',
      id: 'holder',
    });
    const runId = newRunId();
    await h.gateway.registry.reserve({
      vhost: 'default',
      app: 'app',
      stream: 'stream',
      outputStreamName: 'other',
      id: 'holder',
      outputPath: h.root,
      infoFile,
      playlists: ['llhls.m3u8'],
      originBaseUrl: 'http://x/',
      dumpKey,
      runId,
      jobId: jobIdFor(dumpKey, runId),
    });
    expectError(await h.post(startPath(), valid({ infoFile })), 400, 'Duplicate info file');
  });
});

describe('check 7: output roots', () => {
  it('400s an outputPath outside the roots', async () => {
    expectError(
      await h.post(startPath(), valid({ outputPath: h.outside })),
      400,
      'outputPath is outside the allowed output roots',
    );
  });

  it('400s a .. traversal out of the root', async () => {
    expectError(
      await h.post(startPath(), valid({ outputPath: `${h.root}/a/../../outside/x` })),
      400,
      'outputPath is outside the allowed output roots',
    );
  });

  it('400s a relative outputPath', async () => {
    expectError(
      await h.post(startPath(), valid({ outputPath: 'relative/dir' })),
      400,
      'outputPath must be an absolute path',
    );
  });

  it('400s an outputPath through a symlink pointing out of the root', async () => {
    const link = join(h.root, `escape-${newRunId()}`);
    await symlink(h.outside, link);
    expectError(
      await h.post(startPath(), valid({ outputPath: join(link, 'dump') })),
      400,
      'outputPath is outside the allowed output roots (through a symbolic link)',
    );
  });

  it('400s an infoFile outside the roots', async () => {
    expectError(
      await h.post(startPath(), valid({ infoFile: join(h.outside, 'info.xml') })),
      400,
      'infoFile is outside the allowed output roots',
    );
  });
});

describe('start without a worker', () => {
  it('answers 503 within the start timeout, and the dump never starts later', async () => {
    const body = valid({ infoFile: join(h.root, `late-${newRunId()}.xml`) });
    const began = Date.now();
    const res = await h.post(startPath(), body);
    const took = Date.now() - began;
    expectError(res, 503, 'No worker started the dump within 1500 ms; the request was withdrawn');
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(4000);

    const dumpKey = dumpKeyOf({
      vhost: 'default',
      app: 'app',
      outputStreamName: 'stream_o',
      id: body.id,
    });
    expect((await h.gateway.registry.get(dumpKey))?.state).toBe('Withdrawn');
    // Released: the same id and infoFile may be used again.
    expect(await h.gateway.registry.isActive('default', 'app', 'stream_o', body.id)).toBe(false);

    const worker = await h.startWorker('late-worker');
    try {
      // The worker has looked at the queue and found nothing to do.
      await worker.drained;
      expect(worker.processed).toEqual([]);
      expect(
        await h.gateway.queue.getJobCounts('waiting', 'active', 'delayed', 'completed'),
      ).toMatchObject({
        waiting: 0,
        active: 0,
        delayed: 0,
        completed: 0,
      });
      expect((await h.gateway.registry.get(dumpKey))?.state).toBe('Withdrawn');
      expect(existsSync(body.outputPath)).toBe(false);
    } finally {
      await worker.close();
    }
  });
});

describe('start with a worker', () => {
  let worker: ProtocolWorker;
  beforeAll(async () => {
    worker = await h.startWorker('worker-a');
  });
  afterAll(async () => {
    await worker?.close();
  });

  it("answers 200 once the worker runs the dump, with OME's body", async () => {
    const body = valid({
      outputPath: join(h.root, 'deep', 'er', 'dump'),
      playlist: ['llhls.m3u8', 'abr.m3u8'],
    });
    const res = await h.post(startPath(), body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ statusCode: 200, message: 'OK', response: ['stream_o'] });
    expect(existsSync(body.outputPath)).toBe(true);
    const record = await h.gateway.registry.get(
      dumpKeyOf({ vhost: 'default', app: 'app', outputStreamName: 'stream_o', id: body.id }),
    );
    expect(record).toMatchObject({
      state: 'Running',
      owner: 'worker-a',
      playlists: ['llhls.m3u8', 'abr.m3u8'],
    });
    expect(record?.originBaseUrl).toBe(`http://127.0.0.1:${h.origin.port}/app/stream_o/`);
    // The same id again, while it runs.
    expectError(await h.post(startPath(), { ...body }), 400, 'Duplicate ID');
  });

  it('routes stream names with dots and dashes', async () => {
    const res = await h.post(
      startPath('in.put-stream_1'),
      valid({ outputStreamName: 'stream.with-dots_and-dashes' }),
    );
    expect(res.status).toBe(200);
    expect(res.body.response).toEqual(['stream.with-dots_and-dashes']);
  });

  it('judges an outputPath equal to the root like any other: refused once it holds files', async () => {
    // The path policy allows the root itself (path-policy.test.ts); check 8 refuses it once it
    // holds files.
    await writeFile(join(h.root, 'an-earlier-file'), '');
    const infoFile = join(h.root, `info-${newRunId()}.xml`);
    const res = await h.post(
      startPath(),
      valid({ outputPath: h.root, infoFile, userData: "access_key_id='A'" }),
    );
    expectError(
      res,
      400,
      `outputPath already holds files: ${h.root} (a dump never overwrites them; use an empty or new directory)`,
    );
  });
});

describe('a worker that cannot start the dump', () => {
  it.each([
    ['STREAM_NOT_FOUND', 404, 'Could not find output stream: [default/app/stream_o]'],
    ['INFO_FILE_EXISTS', 400, 'Duplicate info file'],
    ['STORAGE_DENIED', 500, 'Could not write the dump: EACCES: permission denied'],
  ])('maps %s', async (code, status, text) => {
    const other = await startHarness({}, h.redis);
    other.origin.streams.add('/app/stream_o/llhls.m3u8');
    const worker = await other.startWorker('failing', {
      fail: { code, message: 'EACCES: permission denied' },
    });
    try {
      const body = { outputStreamName: 'stream_o', id: 'x', outputPath: join(other.root, 'x') };
      expectError(await other.post(startPath(), body), status, text);
      const record = await other.gateway.registry.get(
        dumpKeyOf({ vhost: 'default', app: 'app', outputStreamName: 'stream_o', id: 'x' }),
      );
      expect(record?.state).toBe('Error');
      expect(await other.gateway.registry.isActive('default', 'app', 'stream_o', 'x')).toBe(false);
    } finally {
      await worker.close();
      await other.close();
    }
  });
});

describe('a worker that takes the job but does not acknowledge in time', () => {
  it('503s, cancels the worker, and the dump ends Withdrawn', async () => {
    const other = await startHarness({ START_TIMEOUT_MS: '800' }, h.redis);
    other.origin.streams.add('/app/stream_o/llhls.m3u8');
    const worker = await other.startWorker('slow', 'hang');
    try {
      const body = {
        outputStreamName: 'stream_o',
        id: 'slow',
        outputPath: join(other.root, 'slow'),
      };
      const dumpKey = dumpKeyOf({
        vhost: 'default',
        app: 'app',
        outputStreamName: 'stream_o',
        id: 'slow',
      });
      const ended = new Promise<void>((resolve) =>
        worker.bullWorker.once('completed', () => resolve()),
      );
      expectError(
        await other.post(startPath(), body),
        503,
        'No worker started the dump within 800 ms; the request was withdrawn',
      );
      await ended;
      expect((await other.gateway.registry.get(dumpKey))?.state).toBe('Withdrawn');
      expect(await other.gateway.registry.isActive('default', 'app', 'stream_o', 'slow')).toBe(
        false,
      );
    } finally {
      await worker.close();
      await other.close();
    }
  });
});

describe('auth on start', () => {
  it('401s before looking at the body', async () => {
    const res = await h.post(startPath(), undefined, { auth: null, raw: 'not json' });
    expectError(res, 401, 'Authorization header is required to call API');
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="OvenMediaEngine"');
  });
});
