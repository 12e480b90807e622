import { DUMP_STATES } from '@hlsdump/contracts';

/**
 * The gateway's API as an OpenAPI 3.1 document, served at `GET /openapi.json`. OME's HLS Dump
 * endpoints keep OME's paths, bodies and error texts; the extensions (`maxDurationSeconds`, `from`,
 * `callbackUrl`) are optional fields an OME client never sends. Schemas are JSON Schema 2020-12.
 */

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const okResponse = (description: string, response: object) => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['statusCode', 'message', 'response'],
        additionalProperties: false,
        properties: {
          statusCode: { const: 200 },
          message: { const: 'OK' },
          response,
        },
      },
    },
  },
});

const streamParameters = [
  { $ref: '#/components/parameters/vhost' },
  { $ref: '#/components/parameters/app' },
  { $ref: '#/components/parameters/stream' },
];

/** Every call under /v1 may fail these ways before its own checks. */
const commonFailures = {
  '401': { $ref: '#/components/responses/Unauthorized' },
  '413': errorResponse('The body is larger than BODY_LIMIT_BYTES.'),
  '415': errorResponse("The body's charset or content encoding is not supported."),
  '500': errorResponse('An unexpected failure.'),
  '503': { $ref: '#/components/responses/Unavailable' },
};

const healthBody = (values: string[]) => ({
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: { enum: values } },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'hlsdump',
    version: '0.1.0',
    summary:
      "OvenMediaEngine's HLS Dump REST API, as a standalone service in front of any HLS origin.",
    description:
      'Records live LL-HLS and HLS streams to VOD-playable files. Errors are OME\'s: `{"statusCode":N,"message":"[HTTP] <text> (N)"}`.',
  },
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
  security: [{ basicAuth: [] }],
  tags: [
    { name: 'HLS Dump', description: "OME's endpoints" },
    { name: 'Operations', description: 'Health, metrics, scaling, this document' },
  ],
  paths: {
    '/v1/vhosts/{vhost}/apps/{app}/streams/{stream}:startHlsDump': {
      post: {
        tags: ['HLS Dump'],
        operationId: 'startHlsDump',
        summary: 'Start dumping a stream',
        description:
          "Answers once a worker runs the dump (outputPath and infoFile created, Status Running). Checks run in OME's order: body, vhost, app, required fields, the stream at the origin, duplicates, paths.",
        parameters: streamParameters,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/StartBody' } } },
        },
        responses: {
          '200': okResponse('A worker runs the dump.', {
            type: 'array',
            items: { type: 'string' },
            minItems: 1,
            maxItems: 1,
            description: 'The outputStreamName.',
          }),
          '400': errorResponse(
            'The body is not a JSON object or a field has the wrong type; a required field is missing; Duplicate ID; Duplicate info file; a path escapes the output roots; outputPath is used or holds files; a `from` time the origin no longer holds; a `callbackUrl` host not allowed.',
          ),
          '404': errorResponse('Unknown vhost or app, or the origin has no such stream.'),
          '502': errorResponse('The origin could not be reached, or its playlist is invalid.'),
          ...commonFailures,
          '503': errorResponse(
            'Redis is unavailable, or no worker started the dump within START_TIMEOUT_MS (the request is withdrawn: that dump never starts later).',
          ),
        },
      },
    },
    '/v1/vhosts/{vhost}/apps/{app}/streams/{stream}:stopHlsDump': {
      post: {
        tags: ['HLS Dump'],
        operationId: 'stopHlsDump',
        summary: 'Stop a dump, or every active dump of an output stream',
        description:
          'The stop is recorded in Redis first, then sent to the owning workers; answers once they finalized the dumps (chunklists final, infoFile Completed).',
        parameters: streamParameters,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/StopBody' } } },
        },
        responses: {
          '200': okResponse('Every matching dump is Completed.', {
            type: 'array',
            items: { type: 'string' },
            description: 'The output stream names stopped.',
          }),
          '400': errorResponse('The body is not a JSON object, or `outputStreamName` is missing.'),
          '404': errorResponse('Unknown vhost or app, or no matching active dump.'),
          ...commonFailures,
          '503': errorResponse(
            'Redis is unavailable, or the stop is recorded but the owner has not acknowledged within STOP_TIMEOUT_MS (it is finalized whenever the dump runs again).',
          ),
        },
      },
    },
    '/v1/vhosts/{vhost}/apps/{app}/streams/{stream}:hlsDumps': {
      post: {
        tags: ['HLS Dump'],
        operationId: 'listHlsDumps',
        summary: "The stream's dumps (OME's undocumented list)",
        description:
          'Active dumps and ended ones whose record has not expired, of the input or output stream named in the path; the body filters them.',
        parameters: streamParameters,
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/StopBody' } } },
        },
        responses: {
          '200': okResponse('The dumps, oldest first.', {
            type: 'array',
            items: { $ref: '#/components/schemas/DumpStatus' },
          }),
          '400': errorResponse('The body is not a JSON object, or a field has the wrong type.'),
          '404': errorResponse('Unknown vhost or app.'),
          ...commonFailures,
        },
      },
    },
    '/v1/vhosts/{vhost}/apps/{app}/streams/{stream}/hlsDumps/{id}': {
      get: {
        tags: ['HLS Dump'],
        operationId: 'getHlsDump',
        summary: "One dump's status",
        description: 'The active dump with this id wins over ended ones; then the newest.',
        parameters: [
          ...streamParameters,
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          {
            name: 'outputStreamName',
            in: 'query',
            required: false,
            schema: { type: 'string' },
            description: 'Only the dumps of this output stream.',
          },
        ],
        responses: {
          '200': okResponse('The dump.', { $ref: '#/components/schemas/DumpStatusWithRuns' }),
          '404': errorResponse('Unknown vhost or app, or no such dump.'),
          ...commonFailures,
        },
      },
    },
    '/healthz': {
      get: {
        tags: ['Operations'],
        operationId: 'healthz',
        summary: 'Liveness: the process answers',
        security: [],
        responses: {
          '200': {
            description: 'Alive.',
            content: { 'application/json': { schema: healthBody(['ok']) } },
          },
        },
      },
    },
    '/readyz': {
      get: {
        tags: ['Operations'],
        operationId: 'readyz',
        summary: 'Readiness: Redis answers too',
        security: [],
        responses: {
          '200': {
            description: 'Ready.',
            content: { 'application/json': { schema: healthBody(['ready']) } },
          },
          '503': {
            description: 'Redis does not answer.',
            content: { 'application/json': { schema: healthBody(['redis unavailable']) } },
          },
        },
      },
    },
    '/metrics': {
      get: {
        tags: ['Operations'],
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        security: [],
        responses: {
          '200': {
            description: 'Prometheus text exposition format 0.0.4.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/scaling': {
      get: {
        tags: ['Operations'],
        operationId: 'scaling',
        summary: 'The figure workers are scaled on (KEDA metrics-api trigger)',
        description:
          'Counts only, no names. Scale workers to `workersWanted` (KEDA: `valueLocation: dumpsWanted`, `targetValue` = WORKER_CAPACITY).',
        security: [],
        responses: {
          '200': {
            description: 'The figure.',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Scaling' } } },
          },
          '503': errorResponse('Redis is unavailable.'),
        },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['Operations'],
        operationId: 'openapi',
        summary: 'This document',
        security: [],
        responses: {
          '200': {
            description: 'OpenAPI 3.1.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      basicAuth: {
        type: 'http',
        scheme: 'basic',
        description:
          "OME's rule: `Authorization: Basic <base64(AccessToken)>`; the whole decoded string is compared with ACCESS_TOKEN (usually `user:password`).",
      },
    },
    parameters: {
      vhost: { name: 'vhost', in: 'path', required: true, schema: { type: 'string' } },
      app: { name: 'app', in: 'path', required: true, schema: { type: 'string' } },
      stream: {
        name: 'stream',
        in: 'path',
        required: true,
        schema: { type: 'string' },
        description: 'The input stream; the action follows its last `:`.',
      },
    },
    responses: {
      Unauthorized: {
        description:
          'No, or a wrong, Authorization header. Texts: `Authorization header is required to call API`, `Invalid authorization header`, `Not supported credential type: <x>`, `Invalid credential format`, `Invalid credential`.',
        headers: {
          'WWW-Authenticate': {
            required: true,
            schema: { const: 'Basic realm="OvenMediaEngine"' },
          },
        },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      Unavailable: errorResponse('Redis is unavailable.'),
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['statusCode', 'message'],
        additionalProperties: false,
        properties: {
          statusCode: { type: 'integer', minimum: 400, maximum: 599 },
          message: { type: 'string', pattern: '^\\[HTTP\\] .* \\(\\d{3}\\)$' },
        },
      },
      StartBody: {
        type: 'object',
        required: ['outputStreamName', 'id', 'outputPath'],
        properties: {
          outputStreamName: { type: 'string', minLength: 1 },
          id: { type: 'string', minLength: 1 },
          outputPath: {
            type: 'string',
            description: 'An absolute directory under OUTPUT_ROOTS: missing or empty.',
          },
          playlist: {
            type: 'array',
            items: { type: 'string' },
            description:
              "Master playlist file names at the origin (default: the app's default playlist).",
          },
          infoFile: {
            type: 'string',
            description: 'An absolute path under OUTPUT_ROOTS that does not exist yet.',
          },
          userData: {
            type: 'string',
            description: 'Written into the infoFile (with infoFile only).',
          },
          maxDurationSeconds: {
            type: 'number',
            exclusiveMinimum: 0,
            description: 'Extension: the dump stops itself, Completed, after this much media.',
          },
          from: {
            description:
              'Extension: where the dump starts. `live` (default): the live edge; `window`: the oldest segment the origin still holds; an ISO 8601 time: the first segment whose program date-time reaches it (400 if the origin no longer holds it).',
            oneOf: [
              { const: 'live' },
              { const: 'window' },
              { type: 'string', format: 'date-time' },
            ],
          },
          callbackUrl: {
            type: 'string',
            format: 'uri',
            description:
              "Extension: this dump's events are POSTed here (signed like WEBHOOK_URL's). Its host[:port] must be listed in CALLBACK_ALLOWED_HOSTS, else 400.",
          },
        },
      },
      StopBody: {
        type: 'object',
        properties: {
          outputStreamName: { type: 'string' },
          id: {
            type: 'string',
            description: 'Without it: every active dump of the output stream.',
          },
        },
      },
      DumpStatusFields: {
        type: 'object',
        required: [
          'id',
          'runId',
          'vhost',
          'app',
          'stream',
          'outputStreamName',
          'outputPath',
          'playlist',
          'status',
          'stopRequested',
          'createdAt',
          'renditions',
          'segments',
          'bytes',
          'filesWritten',
          'gaps',
        ],
        description: 'The fields of a dump status; closed by DumpStatus and DumpStatusWithRuns.',
        properties: {
          id: { type: 'string' },
          runId: {
            type: 'string',
            description: 'Which start of the id (ours: a reused id lists each of its runs).',
          },
          vhost: { type: 'string' },
          app: { type: 'string' },
          stream: { type: 'string' },
          outputStreamName: { type: 'string' },
          outputPath: { type: 'string' },
          infoFile: { type: 'string' },
          userData: { type: 'string' },
          playlist: { type: 'array', items: { type: 'string' } },
          status: {
            enum: [...DUMP_STATES],
          },
          owner: { type: 'string', description: 'The worker running it (or that ran it last).' },
          stopRequested: { type: 'boolean' },
          createdAt: { type: 'string', format: 'date-time' },
          startedAt: { type: 'string', format: 'date-time' },
          runningAt: { type: 'string', format: 'date-time' },
          endedAt: { type: 'string', format: 'date-time' },
          heartbeatAt: { type: 'string', format: 'date-time' },
          renditions: {
            type: 'array',
            items: {
              type: 'object',
              required: ['chunklist', 'segments', 'bytes', 'gaps'],
              additionalProperties: false,
              properties: {
                chunklist: { type: 'string' },
                lastSequence: {
                  type: 'integer',
                  description: "The origin's media sequence number of the last segment written.",
                },
                segments: { type: 'integer', minimum: 0 },
                bytes: { type: 'integer', minimum: 0 },
                gaps: { type: 'integer', minimum: 0 },
                lagSeconds: { type: 'number', minimum: 0 },
              },
            },
          },
          segments: { type: 'integer', minimum: 0 },
          bytes: { type: 'integer', minimum: 0 },
          filesWritten: { type: 'integer', minimum: 0 },
          gaps: { type: 'integer', minimum: 0 },
          lagSeconds: {
            type: 'number',
            minimum: 0,
            description: "The largest lag of any rendition behind the origin's live edge.",
          },
          error: {
            type: 'object',
            required: ['code', 'message'],
            additionalProperties: false,
            properties: { code: { type: 'string' }, message: { type: 'string' } },
          },
          notices: {
            type: 'array',
            items: { type: 'string' },
            description: "What the dump could not honour in the origin's playlists.",
          },
          maxDurationSeconds: { type: 'number', exclusiveMinimum: 0, description: 'Ours.' },
          from: { type: 'string', description: 'Ours: `window` or an ISO 8601 time.' },
          callbackUrl: { type: 'string', format: 'uri', description: 'Ours.' },
          endReason: { type: 'string', description: 'Why an ended dump ended.' },
        },
      },
      DumpStatus: {
        allOf: [{ $ref: '#/components/schemas/DumpStatusFields' }],
        unevaluatedProperties: false,
      },
      DumpStatusWithRuns: {
        allOf: [{ $ref: '#/components/schemas/DumpStatusFields' }],
        required: ['runs'],
        properties: {
          runs: {
            type: 'array',
            description: 'Ours: every run of this id the registry still holds, newest first.',
            items: { $ref: '#/components/schemas/DumpStatus' },
          },
        },
        unevaluatedProperties: false,
      },
      Scaling: {
        type: 'object',
        required: ['dumpsRunning', 'dumpsQueued', 'dumpsWanted', 'workerCapacity', 'workersWanted'],
        additionalProperties: false,
        properties: {
          dumpsRunning: { type: 'integer', minimum: 0, description: 'Dumps a worker runs now.' },
          dumpsQueued: {
            type: 'integer',
            minimum: 0,
            description: 'Dumps waiting for a worker: new starts and hand-offs.',
          },
          dumpsWanted: { type: 'integer', minimum: 0, description: 'dumpsRunning + dumpsQueued.' },
          workerCapacity: {
            type: 'integer',
            minimum: 1,
            description: 'WORKER_CAPACITY: the dumps one worker is meant to hold.',
          },
          workersWanted: {
            type: 'integer',
            minimum: 0,
            description: 'ceil(dumpsWanted / workerCapacity).',
          },
        },
      },
    },
  },
} as const;
