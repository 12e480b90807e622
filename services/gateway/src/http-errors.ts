import { HlsDumpClusterError, type ClusterErrors, type DumpFailureCode } from '@hlsdump/contracts';
import type { ErrorRequestHandler, Response } from 'express';
import { GatewayError, type GatewayErrors, type WorkerStartError } from './errors.js';

export interface HttpFailure {
  status: number;
  /** OME's text, without the `[HTTP] ` prefix and ` (N)` suffix. */
  text: string;
  headers?: Record<string, string>;
}

export const WWW_AUTHENTICATE = 'Basic realm="OvenMediaEngine"';

/** `{"statusCode":N,"message":"[HTTP] <text> (N)"}` — OME's error body. */
export function errorBody(status: number, text: string): { statusCode: number; message: string } {
  return { statusCode: status, message: `[HTTP] ${text} (${status})` };
}

export function sendFailure(res: Response, failure: HttpFailure): void {
  for (const [name, value] of Object.entries(failure.headers ?? {})) res.setHeader(name, value);
  res.status(failure.status).json(errorBody(failure.status, failure.text));
}

type Answers<Errors> = { [C in keyof Errors]: (error: Errors[C]) => HttpFailure };

/** The answer to each of the gateway's errors, by code: the status and OME's text. */
const GATEWAY_ANSWERS: Answers<GatewayErrors> = {
  UNAUTHORIZED: (e) => ({
    status: 401,
    text: e.reason,
    headers: { 'WWW-Authenticate': WWW_AUTHENTICATE },
  }),
  INVALID_BODY: (e) => ({ status: 400, text: e.message }),
  UNKNOWN_VHOST: (e) => ({ status: 404, text: `Could not find the virtual host: [${e.vhost}]` }),
  UNKNOWN_APP: (e) => ({
    status: 404,
    text: `Could not find the application: [${e.vhost}/${e.app}]`,
  }),
  MISSING_FIELD: (e) => ({ status: 400, text: e.message }),
  STREAM_NOT_FOUND: (e) => ({
    status: 404,
    text: `Could not find output stream: [${e.streamPath}]`,
  }),
  ORIGIN_UNREACHABLE: (e) => ({
    status: 502,
    text: `Could not reach the origin (${e.reason}): ${e.url}`,
  }),
  INFO_FILE_EXISTS: () => ({ status: 400, text: 'Duplicate info file' }),
  PATH_POLICY: (e) => ({ status: 400, text: e.message }),
  OUTPUT_PATH_IN_USE: (e) => ({
    status: 400,
    text: `outputPath is used by an active dump: [${e.holder.streamPath}/${e.holder.id}] writes to ${e.outputPath}`,
  }),
  OUTPUT_PATH_NOT_EMPTY: (e) => ({
    status: 400,
    text: `outputPath already holds files: ${e.outputPath} (a dump never overwrites them; use an empty or new directory)`,
  }),
  OUTPUT_PATH_IS_FILE: (e) => ({
    status: 400,
    text: `outputPath names an existing file, not a directory: ${e.outputPath}`,
  }),
  START_TIMEOUT: (e) => ({
    status: 503,
    text: `No worker started the dump within ${e.timeoutMs} ms; the request was withdrawn`,
  }),
  START_WITHDRAWN: () => ({
    status: 503,
    text: 'The dump was stopped before a worker started it',
  }),
  WORKER_START_FAILED: (e) => workerStartFailure(e),
  NO_ACTIVE_DUMP: (e) => ({ status: 404, text: `Could not find an active dump: [${e.target}]` }),
  DUMP_NOT_FOUND: (e) => ({ status: 404, text: `Could not find the dump: [${e.target}]` }),
  STOP_NOT_ACKNOWLEDGED: () => ({
    status: 503,
    text: 'Stop recorded; the owning worker has not acknowledged yet',
  }),
  REDIS_UNAVAILABLE: () => ({ status: 503, text: 'Redis is unavailable' }),
  ROUTE_NOT_FOUND: (e) => ({ status: 404, text: `Could not find the resource: ${e.path}` }),
};

/**
 * The answer to the cluster's errors. A malformed message from Redis has none of its own: it is an
 * internal fault (500, or 503 while Redis is away), decided below with any other error.
 */
const CLUSTER_ANSWERS: Answers<Omit<ClusterErrors, 'PROTOCOL'>> = {
  DUPLICATE_ID: () => ({ status: 400, text: 'Duplicate ID' }),
  DUPLICATE_INFO_FILE: () => ({ status: 400, text: 'Duplicate info file' }),
};

/** The answer to a worker's start failure, by the dump's failure code; others are a 500. */
const WORKER_START_ANSWERS: Partial<Record<DumpFailureCode, (e: WorkerStartError) => HttpFailure>> =
  {
    STREAM_NOT_FOUND: (e) => ({
      status: 404,
      text: `Could not find output stream: [${e.streamPath}]`,
    }),
    INFO_FILE_EXISTS: () => ({ status: 400, text: 'Duplicate info file' }),
    FROM_OUT_OF_WINDOW: (e) => ({ status: 400, text: e.reason }),
    FROM_NOT_SUPPORTED: (e) => ({ status: 400, text: e.reason }),
    FROM_INVALID: (e) => ({ status: 400, text: e.reason }),
    ORIGIN_UNREACHABLE: (e) => ({ status: 502, text: `Could not reach the origin: ${e.reason}` }),
    PLAYLIST_INVALID: (e) => ({
      status: 502,
      text: `The origin's playlist is invalid: ${e.reason}`,
    }),
    STORAGE_DENIED: (e) => ({ status: 500, text: `Could not write the dump: ${e.reason}` }),
    STORAGE_FULL: (e) => ({ status: 500, text: `Could not write the dump: ${e.reason}` }),
  };

/** The one place errors become HTTP status codes and OME's message texts. */
export function toHttpFailure(error: unknown, context: { redisReady: boolean }): HttpFailure {
  if (error instanceof GatewayError) return answer(GATEWAY_ANSWERS, error.code, error);
  if (error instanceof HlsDumpClusterError && error.code !== 'PROTOCOL')
    return answer(CLUSTER_ANSWERS, error.code, error);
  const bodyParserFailure = fromBodyParser(error);
  if (bodyParserFailure) return bodyParserFailure;
  // ioredis without an offline queue fails at once while Redis is away: that is a 503, not a bug.
  if (!context.redisReady || isRedisConnectionError(error))
    return { status: 503, text: 'Redis is unavailable' };
  return { status: 500, text: 'Internal server error' };
}

/** Looks the answer up by the error's code; every error class carries exactly its own code. */
function answer<Errors, C extends keyof Errors>(
  answers: Answers<Errors>,
  code: C,
  error: unknown,
): HttpFailure {
  return answers[code](error as Errors[C]);
}

/** A worker's start failure, by the engine's error code. */
function workerStartFailure(error: WorkerStartError): HttpFailure {
  const code = error.workerCode as DumpFailureCode;
  const known = Object.hasOwn(WORKER_START_ANSWERS, code) ? WORKER_START_ANSWERS[code] : undefined;
  return (
    known?.(error) ?? {
      status: 500,
      text: `The dump could not start (${error.workerCode}): ${error.reason}`,
    }
  );
}

interface BodyParserError {
  type: string;
  status?: number;
  limit?: number;
  message: string;
}

function fromBodyParser(error: unknown): HttpFailure | undefined {
  if (
    typeof error !== 'object' ||
    error === null ||
    typeof (error as BodyParserError).type !== 'string'
  )
    return undefined;
  const e = error as BodyParserError;
  switch (e.type) {
    case 'entity.parse.failed':
      return { status: 400, text: 'Invalid JSON in request body' };
    case 'entity.too.large':
      return {
        status: 413,
        text: `Request body is larger than ${e.limit ?? 'the limit of'} bytes`,
      };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return { status: 415, text: e.message };
    default:
      return e.status !== undefined && e.status >= 400 && e.status < 500
        ? { status: e.status, text: e.message }
        : undefined;
  }
}

function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable/i.test(
      error.message,
    )
  );
}

/** Express's error middleware: every failure leaves as OME's JSON body, never Express's HTML. */
export function errorHandler(options: {
  redisReady: () => boolean;
  log: (error: unknown, failure: HttpFailure) => void;
}): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const failure = toHttpFailure(error, { redisReady: options.redisReady() });
    options.log(error, failure);
    sendFailure(res, failure);
  };
}
