import { DuplicateIdError, DuplicateInfoFileError } from '@hlsdump/contracts';
import type { ErrorRequestHandler, Response } from 'express';
import {
  AuthError,
  DumpNotFoundError,
  GatewayError,
  InfoFileExistsError,
  InvalidBodyError,
  MissingFieldError,
  NoActiveDumpError,
  OutputPathInUseError,
  OutputPathIsFileError,
  OutputPathNotEmptyError,
  OriginUnreachableError,
  PathPolicyError,
  RedisUnavailableError,
  RouteNotFoundError,
  StartTimeoutError,
  StartWithdrawnError,
  StopNotAcknowledgedError,
  StreamNotFoundError,
  UnknownAppError,
  UnknownVhostError,
  WorkerStartError,
} from './errors.js';

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

/** The one place errors become HTTP status codes and OME's message texts. */
export function toHttpFailure(error: unknown, context: { redisReady: boolean }): HttpFailure {
  if (error instanceof AuthError)
    return { status: 401, text: error.reason, headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } };
  if (error instanceof InvalidBodyError) return { status: 400, text: error.message };
  if (error instanceof UnknownVhostError)
    return { status: 404, text: `Could not find the virtual host: [${error.vhost}]` };
  if (error instanceof UnknownAppError)
    return { status: 404, text: `Could not find the application: [${error.vhost}/${error.app}]` };
  if (error instanceof MissingFieldError) return { status: 400, text: error.message };
  if (error instanceof StreamNotFoundError)
    return { status: 404, text: `Could not find output stream: [${error.streamPath}]` };
  if (error instanceof OriginUnreachableError)
    return { status: 502, text: `Could not reach the origin (${error.reason}): ${error.url}` };
  if (error instanceof DuplicateIdError) return { status: 400, text: 'Duplicate ID' };
  if (error instanceof DuplicateInfoFileError || error instanceof InfoFileExistsError)
    return { status: 400, text: 'Duplicate info file' };
  if (error instanceof PathPolicyError) return { status: 400, text: error.message };
  if (error instanceof OutputPathInUseError)
    return {
      status: 400,
      text: `outputPath is used by an active dump: [${error.holder.streamPath}/${error.holder.id}] writes to ${error.outputPath}`,
    };
  if (error instanceof OutputPathNotEmptyError)
    return {
      status: 400,
      text: `outputPath already holds files: ${error.outputPath} (a dump never overwrites them; use an empty or new directory)`,
    };
  if (error instanceof OutputPathIsFileError)
    return {
      status: 400,
      text: `outputPath names an existing file, not a directory: ${error.outputPath}`,
    };
  if (error instanceof StartTimeoutError)
    return {
      status: 503,
      text: `No worker started the dump within ${error.timeoutMs} ms; the request was withdrawn`,
    };
  if (error instanceof StartWithdrawnError)
    return { status: 503, text: 'The dump was stopped before a worker started it' };
  if (error instanceof WorkerStartError) return workerStartFailure(error);
  if (error instanceof NoActiveDumpError)
    return { status: 404, text: `Could not find an active dump: [${error.target}]` };
  if (error instanceof DumpNotFoundError)
    return { status: 404, text: `Could not find the dump: [${error.target}]` };
  if (error instanceof StopNotAcknowledgedError)
    return { status: 503, text: 'Stop recorded; the owning worker has not acknowledged yet' };
  if (error instanceof RedisUnavailableError) return { status: 503, text: 'Redis is unavailable' };
  if (error instanceof RouteNotFoundError)
    return { status: 404, text: `Could not find the resource: ${error.path}` };
  const bodyParserFailure = fromBodyParser(error);
  if (bodyParserFailure) return bodyParserFailure;
  // ioredis without an offline queue fails at once while Redis is away: that is a 503, not a bug.
  if (!context.redisReady || isRedisConnectionError(error))
    return { status: 503, text: 'Redis is unavailable' };
  if (error instanceof GatewayError) return { status: 500, text: error.message };
  return { status: 500, text: 'Internal server error' };
}

/** A worker's start failure, by the engine's error code. */
function workerStartFailure(error: WorkerStartError): HttpFailure {
  switch (error.workerCode) {
    case 'STREAM_NOT_FOUND':
      return { status: 404, text: `Could not find output stream: [${error.streamPath}]` };
    case 'INFO_FILE_EXISTS':
    case 'STORAGE_EXISTS':
      return { status: 400, text: 'Duplicate info file' };
    case 'FROM_OUT_OF_WINDOW':
    case 'FROM_NOT_SUPPORTED':
    case 'FROM_INVALID':
      return { status: 400, text: error.reason };
    case 'ORIGIN_UNREACHABLE':
      return { status: 502, text: `Could not reach the origin: ${error.reason}` };
    case 'PLAYLIST_INVALID':
      return { status: 502, text: `The origin's playlist is invalid: ${error.reason}` };
    case 'STORAGE_DENIED':
    case 'STORAGE_FULL':
      return { status: 500, text: `Could not write the dump: ${error.reason}` };
    default:
      return {
        status: 500,
        text: `The dump could not start (${error.workerCode}): ${error.reason}`,
      };
  }
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
