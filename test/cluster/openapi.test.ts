import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createTestOrigin, type TestOrigin } from '@hlsdump/test-origin';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCluster, originsFor, type Cluster } from '../support/cluster.js';
import { waitFor } from '../support/wait-for.js';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

type Method = 'get' | 'post';
interface Exchange {
  status: number;
  contentType: string;
  headers: Headers;
  text: string;
}

const DOC_ID = 'urn:hlsdump:openapi';
const STREAM = '/v1/vhosts/{vhost}/apps/{app}/streams/{stream}';
const pointerPart = (part: string): string => part.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * The OpenAPI 3.1 document the gateway serves is a valid OpenAPI 3.1 document, and every answer a
 * real gateway process gives — each endpoint, each error — matches it: status documented for that
 * operation, content type, headers, and the body against the operation's JSON Schema (ajv, 2020-12).
 */
describe('the OpenAPI document against the real API', () => {
  let origin: TestOrigin;
  let cluster: Cluster;
  let document: Record<string, unknown>;
  let ajv: Ajv2020;
  const exercised = new Set<string>();

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    origin.addStream('app', 'live', { windowSegments: 6 });
    const origins = originsFor(origin.url, ['app']);
    // An app whose origin refuses connections: the start's 502.
    origins.vhosts.default!.apps.dead = { origin: 'http://127.0.0.1:9/{app}/{outputStreamName}/' };
    cluster = await startCluster({
      workers: 1,
      origins,
      gatewayEnv: { START_TIMEOUT_MS: '1500', BODY_LIMIT_BYTES: '2048' },
    });
    const served = await fetch(`${cluster.gatewayUrl}/openapi.json`);
    expect(served.status).toBe(200);
    document = (await served.json()) as Record<string, unknown>;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...document, $id: DOC_ID });
  });
  afterAll(async () => {
    await cluster?.close();
    await origin?.close();
  });

  /** The JSON pointer of a documented response, following a `$ref` to components. */
  function responsePointer(path: string, method: Method, status: number): string {
    const paths = document.paths as Record<
      string,
      Record<string, { responses: Record<string, unknown> }>
    >;
    const responses = paths[path]?.[method]?.responses;
    expect(responses, `${method.toUpperCase()} ${path} is documented`).toBeDefined();
    const response = responses![String(status)] as { $ref?: string } | undefined;
    expect(response, `${method.toUpperCase()} ${path} documents ${status}`).toBeDefined();
    if (response!.$ref) return response!.$ref.slice(1);
    return `/paths/${pointerPart(path)}/${method}/responses/${status}`;
  }

  function resolve(pointer: string): Record<string, unknown> {
    let node: unknown = document;
    for (const part of pointer.split('/').slice(1))
      node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    return node as Record<string, unknown>;
  }

  const validators = new Map<string, ValidateFunction>();
  function validator(pointer: string): ValidateFunction {
    let validate = validators.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      validators.set(pointer, validate);
    }
    return validate;
  }

  /** Sends a request and checks its answer against the document; returns the parsed body. */
  async function call(
    operation: { path: string; method: Method },
    url: string,
    init: RequestInit & { auth?: boolean } = {},
  ): Promise<{ status: number; body: unknown }> {
    const headers = new Headers(init.headers);
    if (init.auth !== false && operation.path.startsWith('/v1/'))
      headers.set('authorization', cluster.authorization);
    const response = await fetch(`${cluster.gatewayUrl}${url}`, {
      ...init,
      method: operation.method.toUpperCase(),
      headers,
    });
    const exchange: Exchange = {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      headers: response.headers,
      text: await response.text(),
    };
    const where = `${operation.method.toUpperCase()} ${url} → ${exchange.status} ${exchange.text.slice(0, 300)}`;
    const pointer = responsePointer(operation.path, operation.method, exchange.status);
    const documented = resolve(pointer) as {
      content?: Record<string, unknown>;
      headers?: Record<string, { required?: boolean }>;
    };
    const mediaType = exchange.contentType.split(';')[0]!.trim();
    expect(Object.keys(documented.content ?? {}), where).toContain(mediaType);
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      const value = exchange.headers.get(name);
      if (header.required) expect(value, `${where}: header ${name}`).not.toBeNull();
      if (value !== null) {
        const validate = validator(`${pointer}/headers/${pointerPart(name)}/schema`);
        expect(
          validate(value),
          `${where}: header ${name}: ${ajv.errorsText(validate.errors)}`,
        ).toBe(true);
      }
    }
    const body: unknown =
      mediaType === 'application/json' ? JSON.parse(exchange.text) : exchange.text;
    const validate = validator(`${pointer}/content/${pointerPart(mediaType)}/schema`);
    expect(validate(body), `${where}\n${ajv.errorsText(validate.errors)}`).toBe(true);
    exercised.add(`${operation.method} ${operation.path} ${exchange.status}`);
    return { status: exchange.status, body };
  }

  const start = { path: `${STREAM}:startHlsDump`, method: 'post' } as const;
  const stop = { path: `${STREAM}:stopHlsDump`, method: 'post' } as const;
  const list = { path: `${STREAM}:hlsDumps`, method: 'post' } as const;
  const status = { path: `${STREAM}/hlsDumps/{id}`, method: 'get' } as const;
  const op = (path: string) => ({ path, method: 'get' as const });
  const json = (body: unknown): RequestInit => ({
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const outputPath = (name: string): string => `${cluster.outputRoot}/${name}`;

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('its schemas reject what they do not describe (the checks below can fail)', () => {
    const error = validator(
      `${responsePointer(start.path, 'post', 404)}/content/application~1json/schema`,
    );
    expect(
      error({ statusCode: 404, message: '[HTTP] Could not find the virtual host: [x] (404)' }),
    ).toBe(true);
    expect(error({ statusCode: 404, message: 'no prefix' })).toBe(false);
    expect(error({ statusCode: 404, message: '[HTTP] x (404)', extra: 1 })).toBe(false);
    const one = validator(
      `${responsePointer(status.path, 'get', 200)}/content/application~1json/schema`,
    );
    expect(one({ statusCode: 200, message: 'OK', response: { id: 'x' } })).toBe(false);
    const unauthorized = validator(
      `${responsePointer(start.path, 'post', 401)}/headers/WWW-Authenticate/schema`,
    );
    expect(unauthorized('Basic realm="elsewhere"')).toBe(false);
  });

  it('describes every answer of every endpoint, errors included', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const s = '/v1/vhosts/default/apps/app/streams/live';

    await call(op('/healthz'), '/healthz');
    await call(op('/readyz'), '/readyz');
    await call(op('/metrics'), '/metrics');
    await call(op('/openapi.json'), '/openapi.json');
    expect((await call(op('/scaling'), '/scaling')).body).toMatchObject({ dumpsWanted: 0 });

    // 401: every OME text.
    await call(start, `${s}:startHlsDump`, { ...json({}), auth: false });
    await call(start, `${s}:startHlsDump`, {
      ...json({}),
      auth: false,
      headers: { authorization: 'Bearer x' },
    });
    await call(start, `${s}:startHlsDump`, {
      ...json({}),
      auth: false,
      headers: { authorization: 'Basic !!!' },
    });
    const wrong = { authorization: `Basic ${Buffer.from('ome:wrong').toString('base64')}` };
    await call(stop, `${s}:stopHlsDump`, { ...json({}), auth: false, headers: wrong });
    await call(list, `${s}:hlsDumps`, { auth: false, headers: wrong });
    await call(status, `${s}/hlsDumps/x`, { auth: false });
    // 400, 404, 413, 415, 502 on start, in OME's order of checks.
    expect((await call(start, `${s}:startHlsDump`, { body: '[1]' })).status).toBe(400);
    expect((await call(start, `${s}:startHlsDump`, { body: '{"id":' })).status).toBe(400);
    expect((await call(start, `${s}:startHlsDump`, json({ id: 7 }))).status).toBe(400);
    expect(
      (await call(start, '/v1/vhosts/nope/apps/app/streams/live:startHlsDump', json({}))).status,
    ).toBe(404);
    expect(
      (await call(start, '/v1/vhosts/default/apps/nope/streams/live:startHlsDump', json({})))
        .status,
    ).toBe(404);
    expect((await call(start, `${s}:startHlsDump`, json({ id: 'x' }))).status).toBe(400);
    expect(
      (
        await call(
          start,
          `${s}:startHlsDump`,
          json({ id: 'x', outputStreamName: 'ghost', outputPath: outputPath('ghost') }),
        )
      ).status,
    ).toBe(404);
    expect(
      (
        await call(
          start,
          `${s}:startHlsDump`,
          json({ id: 'x', outputStreamName: 'live', outputPath: '/etc/escape' }),
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await call(
          start,
          '/v1/vhosts/default/apps/dead/streams/live:startHlsDump',
          json({ id: 'x', outputStreamName: 'live', outputPath: outputPath('dead') }),
        )
      ).status,
    ).toBe(502);
    expect(
      (await call(start, `${s}:startHlsDump`, json({ userData: 'x'.repeat(4096) }))).status,
    ).toBe(413);
    expect(
      (
        await call(start, `${s}:startHlsDump`, {
          body: '{}',
          headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
        })
      ).status,
    ).toBe(415);

    // A real dump: 200 on start, list and status; 400 on a second start with its id.
    const dump = {
      id: 'doc',
      outputStreamName: 'live',
      outputPath: outputPath('doc'),
      infoFile: outputPath('doc.xml'),
      userData: 'openapi',
    };
    const started = await call(start, `${s}:startHlsDump`, json(dump));
    expect(started.body).toEqual({ statusCode: 200, message: 'OK', response: ['live'] });
    expect(
      (await call(start, `${s}:startHlsDump`, json({ ...dump, outputPath: outputPath('doc2') })))
        .status,
    ).toBe(400);
    expect((await call(list, `${s}:hlsDumps`, json({ outputStreamName: 'live' }))).status).toBe(
      200,
    );
    expect((await call(list, `${s}:hlsDumps`)).status).toBe(200);
    expect((await call(list, `${s}:hlsDumps`, json({ id: 1 }))).status).toBe(400);
    expect((await call(list, '/v1/vhosts/default/apps/nope/streams/live:hlsDumps')).status).toBe(
      404,
    );
    expect((await call(status, `${s}/hlsDumps/doc`)).status).toBe(200);
    expect((await call(status, `${s}/hlsDumps/doc?outputStreamName=live`)).status).toBe(200);
    expect((await call(status, `${s}/hlsDumps/none`)).status).toBe(404);
    expect((await call(op('/scaling'), '/scaling')).body).toMatchObject({
      dumpsRunning: 1,
      workersWanted: 1,
    });

    // Stop: 400 without outputStreamName, 200, then 404 (nothing active).
    expect((await call(stop, `${s}:stopHlsDump`, json({ id: 'doc' }))).status).toBe(400);
    expect(
      (await call(stop, `${s}:stopHlsDump`, json({ outputStreamName: 'live', id: 'doc' }))).status,
    ).toBe(200);
    expect(
      (await call(stop, `${s}:stopHlsDump`, json({ outputStreamName: 'live', id: 'doc' }))).status,
    ).toBe(404);
    const ended = await call(status, `${s}/hlsDumps/doc`);
    expect(ended.body).toMatchObject({ response: { status: 'Completed', userData: 'openapi' } });

    // No worker: the start is withdrawn after START_TIMEOUT_MS, 503.
    await cluster.workers[0]!.kill('SIGTERM');
    expect(
      (
        await call(
          start,
          `${s}:startHlsDump`,
          json({ ...dump, id: 'late', outputPath: outputPath('late'), infoFile: undefined }),
        )
      ).status,
    ).toBe(503);

    // Redis gone: 503 everywhere it is needed; liveness still 200.
    await cluster.redis.stop();
    await waitFor(
      'the gateway to notice Redis is gone',
      async () => (await fetch(`${cluster.gatewayUrl}/readyz`)).status === 503,
    );
    await call(op('/healthz'), '/healthz');
    expect((await call(op('/readyz'), '/readyz')).status).toBe(503);
    expect((await call(op('/scaling'), '/scaling')).status).toBe(503);
    await call(op('/metrics'), '/metrics');
    expect((await call(stop, `${s}:stopHlsDump`, json({ outputStreamName: 'live' }))).status).toBe(
      503,
    );
    expect((await call(list, `${s}:hlsDumps`)).status).toBe(503);
    expect((await call(status, `${s}/hlsDumps/doc`)).status).toBe(503);

    // Every documented answer was seen, but the 500 no request can provoke on purpose.
    const documented: string[] = [];
    for (const [path, methods] of Object.entries(
      document.paths as Record<string, Record<string, { responses: object }>>,
    ))
      for (const [method, operation] of Object.entries(methods))
        for (const code of Object.keys(operation.responses))
          documented.push(`${method} ${path} ${code}`);
    const unseen = documented.filter((d) => !exercised.has(d) && !d.endsWith(' 500'));
    const notByEveryRoute = new Set([
      // The same middleware answers these for every /v1 route: shown on one route each.
      ...[stop, list, status].flatMap((o) =>
        ['413', '415'].map((c) => `${o.method} ${o.path} ${c}`),
      ),
    ]);
    expect(unseen.filter((u) => !notByEveryRoute.has(u))).toEqual([]);
  });
});
