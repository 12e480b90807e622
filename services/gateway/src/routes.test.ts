import { join } from 'node:path';
import { dumpKeyOf, newRunId } from '@hlsdump/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAuthorization } from './auth.js';
import { AuthError } from './errors.js';
import { startHarness, startPath, type Harness } from './gateway-harness.test-support.js';
import type { ProtocolWorker } from './protocol-worker.test-support.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  h.origin.streams.add('/app/stream_o/llhls.m3u8');
});
afterAll(async () => {
  await h?.close();
});

const b64 = (value: string) => Buffer.from(value).toString('base64');

describe('auth (docs/api.md#auth)', () => {
  it.each([
    ['no header', null, 'Authorization header is required to call API'],
    ['an empty header', '', 'Authorization header is required to call API'],
    ['a bare scheme', 'Basic', 'Invalid authorization header'],
    ['three parts', 'Basic a b', 'Invalid authorization header'],
    ['another scheme', 'Bearer abc', 'Not supported credential type: Bearer'],
    ['bad base64', 'Basic !!!!', 'Invalid credential format'],
    ['unpadded base64', 'Basic YWJj=', 'Invalid credential format'],
    ['a wrong token', `Basic ${b64('ome-user:wrong')}`, 'Invalid credential'],
    ['a token prefix', `Basic ${b64('ome-user')}`, 'Invalid credential'],
    ['the token plus more', `Basic ${b64('ome-user:s3cret:x')}`, 'Invalid credential'],
  ])('401s %s with the header and JSON body', async (_what, auth, text) => {
    const res = await h.post(startPath(), {}, { auth });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="OvenMediaEngine"');
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.body).toEqual({ statusCode: 401, message: `[HTTP] ${text} (401)` });
  });

  it('compares the whole decoded string', () => {
    expect(() => checkAuthorization(`Basic ${b64('user:pass')}`, 'user:pass')).not.toThrow();
    expect(() => checkAuthorization(`basic ${b64('user:pass')}`, 'user:pass')).not.toThrow();
    expect(() => checkAuthorization(`Basic ${b64('user:pas')}`, 'user:pass')).toThrow(AuthError);
    expect(() =>
      checkAuthorization(`Basic ${b64('token-without-colon')}`, 'token-without-colon'),
    ).not.toThrow();
  });

  it('leaves /healthz and /readyz open', async () => {
    expect((await h.get('/healthz', { auth: null })).status).toBe(200);
    const ready = await h.get('/readyz', { auth: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
  });
});

describe('routing', () => {
  it('404s unknown actions and paths as JSON', async () => {
    const res = await h.post('/v1/vhosts/default/apps/app/streams/foo:explode', {});
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      statusCode: 404,
      message:
        '[HTTP] Could not find the resource: /v1/vhosts/default/apps/app/streams/foo:explode (404)',
    });
    expect((await h.post('/v1/vhosts/default/apps/app/streams/foo', {})).status).toBe(404);
    expect((await h.post('/v1/vhosts/default/apps/app/streams/:startHlsDump', {})).status).toBe(
      404,
    );
    expect((await h.get('/nope', { auth: null })).body.statusCode).toBe(404);
  });

  it('splits foo:startHlsDump into the stream and the action', async () => {
    // Reaches the start handler: its check 4 answers, not a 404.
    const res = await h.post('/v1/vhosts/default/apps/app/streams/foo:startHlsDump', {});
    expect(res.body).toEqual({
      statusCode: 400,
      message: '[HTTP] id, outputStreamName and outputPath are required (400)',
    });
    const dotted = await h.post(
      '/v1/vhosts/default/apps/app/streams/my.stream-1_a:stopHlsDump',
      {},
    );
    expect(dotted.body.message).toBe('[HTTP] outputStreamName is required (400)');
  });
});

describe('list and status', () => {
  let worker: ProtocolWorker;
  beforeAll(async () => {
    worker = await h.startWorker('status-worker');
  });
  afterAll(async () => {
    await worker?.close();
  });

  it('shows owner, state and per-rendition progress', async () => {
    const id = `st-${newRunId()}`;
    const infoFile = join(h.root, `${id}.xml`);
    const started = await h.post('/v1/vhosts/default/apps/app/streams/stream:startHlsDump', {
      outputStreamName: 'stream_o',
      id,
      outputPath: join(h.root, id),
      infoFile,
      userData: 'u',
    });
    expect(started.status).toBe(200);
    const dumpKey = dumpKeyOf({ vhost: 'default', app: 'app', outputStreamName: 'stream_o', id });
    const record = await h.gateway.registry.get(dumpKey);
    await h.gateway.registry.heartbeat(dumpKey, record?.runId ?? '', 'status-worker', {
      status: 'Running',
      renditions: [
        {
          chunklist: 'chunklist_0.m3u8',
          lastMsn: 41,
          segments: 10,
          bytes: 1000,
          gaps: 1,
          lagSeconds: 2,
        },
        {
          chunklist: 'chunklist_1.m3u8',
          lastMsn: 41,
          segments: 10,
          bytes: 500,
          gaps: 0,
          lagSeconds: 3.5,
        },
      ],
      filesWritten: 33,
      bytesWritten: 1500,
      gaps: 1,
    });
    const status = await h.get(`/v1/vhosts/default/apps/app/streams/stream/hlsDumps/${id}`);
    expect(status.status).toBe(200);
    expect(status.body.response).toMatchObject({
      id,
      outputStreamName: 'stream_o',
      outputPath: join(h.root, id),
      infoFile,
      userData: 'u',
      status: 'Running',
      owner: 'status-worker',
      segments: 20,
      bytes: 1500,
      gaps: 1,
      lagSeconds: 3.5,
      renditions: [
        {
          chunklist: 'chunklist_0.m3u8',
          lastSequence: 41,
          segments: 10,
          bytes: 1000,
          gaps: 1,
          lagSeconds: 2,
        },
        {
          chunklist: 'chunklist_1.m3u8',
          lastSequence: 41,
          segments: 10,
          bytes: 500,
          gaps: 0,
          lagSeconds: 3.5,
        },
      ],
    });
    // By output stream name in the path, too.
    expect(
      (await h.get(`/v1/vhosts/default/apps/app/streams/stream_o/hlsDumps/${id}`)).status,
    ).toBe(200);

    const list = await h.post('/v1/vhosts/default/apps/app/streams/stream:hlsDumps');
    expect(list.status).toBe(200);
    expect((list.body.response as { id: string }[]).map((d) => d.id)).toContain(id);
    const filtered = await h.post('/v1/vhosts/default/apps/app/streams/stream:hlsDumps', {
      id: 'other',
    });
    expect(filtered.body.response).toEqual([]);

    const missing = await h.get('/v1/vhosts/default/apps/app/streams/stream/hlsDumps/none');
    expect(missing.body).toEqual({
      statusCode: 404,
      message: '[HTTP] Could not find the dump: [default/app/stream/none] (404)',
    });
  });
});
