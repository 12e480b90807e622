/**
 * Small named errors with a stable `code`, so callers (and logs, and the REST API) can tell
 * "origin said no" from "origin is gone" without parsing messages.
 */

export class OriginHttpError extends Error {
  readonly code = 'ORIGIN_HTTP_STATUS';
  override name = 'OriginHttpError';
  readonly status: number;
  readonly url: string;
  /** The server's Retry-After, in ms, when it sent one (429/503). */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, url: string, retryAfterMs?: number) {
    super(`origin answered HTTP ${status} for ${url}`);
    this.status = status;
    this.url = url;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Connect refused/reset, socket closed mid-body, DNS failure... */
export class OriginNetworkError extends Error {
  readonly code = 'ORIGIN_NETWORK';
  override name = 'OriginNetworkError';
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super(`network error talking to origin for ${url}: ${describe(cause)}`, { cause });
    this.url = url;
  }
}

/** Connect, headers or body timeout (a stalled body counts). */
export class OriginTimeoutError extends Error {
  readonly code = 'ORIGIN_TIMEOUT';
  override name = 'OriginTimeoutError';
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super(`origin timed out for ${url}: ${describe(cause)}`, { cause });
    this.url = url;
  }
}

/** The playlist kept answering 404 for longer than the loader's limit. */
export class StreamGoneError extends Error {
  readonly code = 'STREAM_GONE';
  override name = 'StreamGoneError';
  readonly url: string;

  constructor(url: string, forMs: number, cause?: unknown) {
    super(`stream gone: ${url} answered 404 for ${Math.round(forMs)} ms`, { cause });
    this.url = url;
  }
}

/** Network errors / 5xx for longer than the loader's limit. */
export class OriginUnreachableError extends Error {
  readonly code = 'ORIGIN_UNREACHABLE';
  override name = 'OriginUnreachableError';
  readonly url: string;

  constructor(url: string, forMs: number, cause?: unknown) {
    super(`origin unreachable for ${Math.round(forMs)} ms: ${url} (${describe(cause)})`, {
      cause,
    });
    this.url = url;
  }
}

/**
 * Whether trying the same request again can help: network trouble, timeouts, 5xx and 429.
 * Other 4xx are the origin's considered answer and are never retried here (a playlist 404
 * is the loader's business, via `retryOn404`).
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof OriginNetworkError || error instanceof OriginTimeoutError) return true;
  if (error instanceof OriginHttpError) return error.status >= 500 || error.status === 429;
  if (error instanceof OriginAnswerError) return error.retryable;
  return false;
}

/**
 * Whether the origin could not give this one resource: it answered with an error status, did not
 * answer, answered what we refuse, or stayed unreachable past the loader's limit. A gone stream
 * (`StreamGoneError`) and an origin that ignores byte ranges (`OriginRangeError`) are not: neither
 * is about one resource.
 */
export function isOriginUnavailable(error: unknown): boolean {
  return (
    error instanceof OriginHttpError ||
    error instanceof OriginNetworkError ||
    error instanceof OriginTimeoutError ||
    error instanceof OriginAnswerError ||
    error instanceof OriginUnreachableError
  );
}

/** The origin says this resource does not exist (404 or 410). */
export function isOriginNotFound(error: unknown): boolean {
  return error instanceof OriginHttpError && (error.status === 404 || error.status === 410);
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${cause.message}` : cause.message;
  }
  return String(cause);
}

/**
 * The origin answered, but with something no origin should send on purpose: a body past its
 * size limit, an encoding we cannot decode, a partial body we did not ask for, an HTML page where
 * media belongs, a header block too large to read, a body too slow to ever arrive, a redirect
 * loop. `code` says which; `retryable` says whether asking again can get a better answer.
 */
export type OriginAnswerCode =
  | 'ORIGIN_BODY_TOO_LARGE'
  | 'ORIGIN_CONTENT_ENCODING'
  | 'ORIGIN_PARTIAL_CONTENT'
  | 'ORIGIN_HTML_PAGE'
  | 'ORIGIN_HEADERS_TOO_LARGE'
  | 'ORIGIN_BODY_TOO_SLOW'
  | 'ORIGIN_REDIRECT_LOOP';

/**
 * Which answers are worth asking for again (the next answer may be a good one, and a retry costs
 * one request). Only a body past its size limit is not: it would cost the limit again.
 */
const RETRYABLE_ANSWERS: ReadonlySet<OriginAnswerCode> = new Set([
  'ORIGIN_CONTENT_ENCODING',
  'ORIGIN_PARTIAL_CONTENT',
  'ORIGIN_HTML_PAGE',
  'ORIGIN_HEADERS_TOO_LARGE',
  'ORIGIN_BODY_TOO_SLOW',
  'ORIGIN_REDIRECT_LOOP',
]);

export class OriginAnswerError extends Error {
  override name = 'OriginAnswerError';
  readonly code: OriginAnswerCode;
  readonly url: string;

  constructor(code: OriginAnswerCode, url: string, reason: string, options?: { cause?: unknown }) {
    super(`origin answer refused for ${url}: ${reason}`, options);
    this.code = code;
    this.url = url;
  }

  get retryable(): boolean {
    return RETRYABLE_ANSWERS.has(this.code);
  }
}
