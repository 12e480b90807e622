/**
 * The gateway's errors. Each names what went wrong and carries what the message needs; its code
 * is one of `GatewayErrorCode`, and `http-errors.ts` holds the one table from a code to the HTTP
 * status and OME's text.
 */
export class GatewayError<C extends GatewayErrorCode = GatewayErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Each code of the gateway, with the error that carries it. */
export interface GatewayErrors {
  UNAUTHORIZED: AuthError;
  INVALID_BODY: InvalidBodyError;
  UNKNOWN_VHOST: UnknownVhostError;
  UNKNOWN_APP: UnknownAppError;
  MISSING_FIELD: MissingFieldError;
  PATH_POLICY: PathPolicyError;
  STREAM_NOT_FOUND: StreamNotFoundError;
  ORIGIN_UNREACHABLE: OriginProbeError;
  INFO_FILE_EXISTS: InfoFileExistsError;
  START_TIMEOUT: StartTimeoutError;
  START_WITHDRAWN: StartWithdrawnError;
  WORKER_START_FAILED: WorkerStartError;
  NO_ACTIVE_DUMP: NoActiveDumpError;
  DUMP_NOT_FOUND: DumpNotFoundError;
  STOP_NOT_ACKNOWLEDGED: StopNotAcknowledgedError;
  REDIS_UNAVAILABLE: RedisUnavailableError;
  ROUTE_NOT_FOUND: RouteNotFoundError;
  OUTPUT_PATH_IN_USE: OutputPathInUseError;
  OUTPUT_PATH_NOT_EMPTY: OutputPathNotEmptyError;
  OUTPUT_PATH_IS_FILE: OutputPathIsFileError;
}
export type GatewayErrorCode = keyof GatewayErrors;

export class AuthError extends GatewayError<'UNAUTHORIZED'> {
  constructor(readonly reason: string) {
    super('UNAUTHORIZED', reason);
  }
}

/** Step 1: the body is not a JSON object, or a field has the wrong type. */
export class InvalidBodyError extends GatewayError<'INVALID_BODY'> {
  constructor(message: string) {
    super('INVALID_BODY', message);
  }
}

export class UnknownVhostError extends GatewayError<'UNKNOWN_VHOST'> {
  constructor(readonly vhost: string) {
    super('UNKNOWN_VHOST', `unknown vhost ${vhost}`);
  }
}

export class UnknownAppError extends GatewayError<'UNKNOWN_APP'> {
  constructor(
    readonly vhost: string,
    readonly app: string,
  ) {
    super('UNKNOWN_APP', `unknown app ${vhost}/${app}`);
  }
}

export class MissingFieldError extends GatewayError<'MISSING_FIELD'> {
  constructor(message: string) {
    super('MISSING_FIELD', message);
  }
}

/** A path or file name escapes the output roots, or is not a plain name where one is expected. */
export class PathPolicyError extends GatewayError<'PATH_POLICY'> {
  constructor(message: string) {
    super('PATH_POLICY', message);
  }
}

export class StreamNotFoundError extends GatewayError<'STREAM_NOT_FOUND'> {
  constructor(readonly streamPath: string) {
    super('STREAM_NOT_FOUND', `the origin has no output stream ${streamPath}`);
  }
}

/** The probe could not reach the origin (network, or an answer other than 200/404). */
export class OriginProbeError extends GatewayError<'ORIGIN_UNREACHABLE'> {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super('ORIGIN_UNREACHABLE', `origin ${url}: ${reason}`);
  }
}

export class InfoFileExistsError extends GatewayError<'INFO_FILE_EXISTS'> {
  constructor(readonly infoFile: string) {
    super('INFO_FILE_EXISTS', `infoFile ${infoFile} already exists`);
  }
}

export class StartTimeoutError extends GatewayError<'START_TIMEOUT'> {
  constructor(readonly timeoutMs: number) {
    super('START_TIMEOUT', `no worker started the dump within ${timeoutMs} ms`);
  }
}

/** The dump was stopped (or withdrawn) before any worker started it. */
export class StartWithdrawnError extends GatewayError<'START_WITHDRAWN'> {
  constructor() {
    super('START_WITHDRAWN', 'the dump was stopped before a worker started it');
  }
}

/** The worker could not start the dump; `code` is the engine's (STREAM_NOT_FOUND, STORAGE_DENIED...). */
export class WorkerStartError extends GatewayError<'WORKER_START_FAILED'> {
  constructor(
    readonly workerCode: string,
    readonly reason: string,
    readonly streamPath: string,
  ) {
    super('WORKER_START_FAILED', `${workerCode}: ${reason}`);
  }
}

export class NoActiveDumpError extends GatewayError<'NO_ACTIVE_DUMP'> {
  constructor(readonly target: string) {
    super('NO_ACTIVE_DUMP', `no active dump ${target}`);
  }
}

export class DumpNotFoundError extends GatewayError<'DUMP_NOT_FOUND'> {
  constructor(readonly target: string) {
    super('DUMP_NOT_FOUND', `no dump ${target}`);
  }
}

export class StopNotAcknowledgedError extends GatewayError<'STOP_NOT_ACKNOWLEDGED'> {
  constructor() {
    super('STOP_NOT_ACKNOWLEDGED', 'the owning worker has not acknowledged the stop');
  }
}

export class RedisUnavailableError extends GatewayError<'REDIS_UNAVAILABLE'> {
  constructor() {
    super('REDIS_UNAVAILABLE', 'Redis is unavailable');
  }
}

export class RouteNotFoundError extends GatewayError<'ROUTE_NOT_FOUND'> {
  constructor(readonly path: string) {
    super('ROUTE_NOT_FOUND', `no route ${path}`);
  }
}

/** docs/api.md#start-checks, check 8: another active dump writes to this outputPath. */
export class OutputPathInUseError extends GatewayError<'OUTPUT_PATH_IN_USE'> {
  constructor(
    readonly outputPath: string,
    readonly holder: { streamPath: string; id: string },
  ) {
    super(
      'OUTPUT_PATH_IN_USE',
      `outputPath ${outputPath} is used by ${holder.streamPath}/${holder.id}`,
    );
  }
}

/** docs/api.md#start-checks, check 8: outputPath already holds files (a finished dump is never overwritten). */
export class OutputPathNotEmptyError extends GatewayError<'OUTPUT_PATH_NOT_EMPTY'> {
  constructor(readonly outputPath: string) {
    super('OUTPUT_PATH_NOT_EMPTY', `outputPath ${outputPath} already holds files`);
  }
}

/** outputPath names an existing file, not a directory. */
export class OutputPathIsFileError extends GatewayError<'OUTPUT_PATH_IS_FILE'> {
  constructor(readonly outputPath: string) {
    super('OUTPUT_PATH_IS_FILE', `outputPath ${outputPath} is a file`);
  }
}
