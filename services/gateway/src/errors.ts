/**
 * The gateway's errors. Each names what went wrong and carries what the message needs; the one
 * mapping to HTTP status codes and OME's texts is `http-errors.ts`.
 */
export class GatewayError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export class AuthError extends GatewayError {
  constructor(readonly reason: string) {
    super('UNAUTHORIZED', reason);
  }
}

/** Step 1: the body is not a JSON object, or a field has the wrong type. */
export class InvalidBodyError extends GatewayError {
  constructor(message: string) {
    super('INVALID_BODY', message);
  }
}

export class UnknownVhostError extends GatewayError {
  constructor(readonly vhost: string) {
    super('UNKNOWN_VHOST', `unknown vhost ${vhost}`);
  }
}

export class UnknownAppError extends GatewayError {
  constructor(
    readonly vhost: string,
    readonly app: string,
  ) {
    super('UNKNOWN_APP', `unknown app ${vhost}/${app}`);
  }
}

export class MissingFieldError extends GatewayError {
  constructor(message: string) {
    super('MISSING_FIELD', message);
  }
}

/** A path or file name escapes the output roots, or is not a plain name where one is expected. */
export class PathPolicyError extends GatewayError {
  constructor(message: string) {
    super('PATH_POLICY', message);
  }
}

export class StreamNotFoundError extends GatewayError {
  constructor(readonly streamPath: string) {
    super('STREAM_NOT_FOUND', `the origin has no output stream ${streamPath}`);
  }
}

export class OriginUnreachableError extends GatewayError {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super('ORIGIN_UNREACHABLE', `origin ${url}: ${reason}`);
  }
}

export class InfoFileExistsError extends GatewayError {
  constructor(readonly infoFile: string) {
    super('INFO_FILE_EXISTS', `infoFile ${infoFile} already exists`);
  }
}

export class StartTimeoutError extends GatewayError {
  constructor(readonly timeoutMs: number) {
    super('START_TIMEOUT', `no worker started the dump within ${timeoutMs} ms`);
  }
}

/** The dump was stopped (or withdrawn) before any worker started it. */
export class StartWithdrawnError extends GatewayError {
  constructor() {
    super('START_WITHDRAWN', 'the dump was stopped before a worker started it');
  }
}

/** The worker could not start the dump; `code` is the engine's (STREAM_NOT_FOUND, STORAGE_DENIED...). */
export class WorkerStartError extends GatewayError {
  constructor(
    readonly workerCode: string,
    readonly reason: string,
    readonly streamPath: string,
  ) {
    super('WORKER_START_FAILED', `${workerCode}: ${reason}`);
  }
}

export class NoActiveDumpError extends GatewayError {
  constructor(readonly target: string) {
    super('NO_ACTIVE_DUMP', `no active dump ${target}`);
  }
}

export class DumpNotFoundError extends GatewayError {
  constructor(readonly target: string) {
    super('DUMP_NOT_FOUND', `no dump ${target}`);
  }
}

export class StopNotAcknowledgedError extends GatewayError {
  constructor() {
    super('STOP_NOT_ACKNOWLEDGED', 'the owning worker has not acknowledged the stop');
  }
}

export class RedisUnavailableError extends GatewayError {
  constructor() {
    super('REDIS_UNAVAILABLE', 'Redis is unavailable');
  }
}

export class RouteNotFoundError extends GatewayError {
  constructor(readonly path: string) {
    super('ROUTE_NOT_FOUND', `no route ${path}`);
  }
}

/** docs/api.md#start-checks, check 8: another active dump writes to this outputPath. */
export class OutputPathInUseError extends GatewayError {
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
export class OutputPathNotEmptyError extends GatewayError {
  constructor(readonly outputPath: string) {
    super('OUTPUT_PATH_NOT_EMPTY', `outputPath ${outputPath} already holds files`);
  }
}

/** outputPath names an existing file, not a directory. */
export class OutputPathIsFileError extends GatewayError {
  constructor(readonly outputPath: string) {
    super('OUTPUT_PATH_IS_FILE', `outputPath ${outputPath} is a file`);
  }
}
