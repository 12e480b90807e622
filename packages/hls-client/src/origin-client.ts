import type { Readable } from 'node:stream';
import { errors } from 'undici';
import { abortReason, abortableDelay, throwIfAborted } from './abortable-delay.js';
import {
  MEDIA_ACCEPT_ENCODING,
  PLAYLIST_ACCEPT_ENCODING,
  asDecodeError,
  checkAnswer,
  decodedBody,
  discardBody,
  htmlGuard,
  readPlaylistText,
  refuseHtmlPlaylist,
} from './origin-answer.js';
import type { OriginBody } from './origin-body.js';
import { InFlightRequests } from './in-flight-requests.js';
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  ownConnections,
  type ConnectionSettings,
  type ConnectionsLease,
  type OriginConnections,
} from './origin-connections.js';
import { dispatchGet } from './origin-dispatch.js';
import {
  OriginAnswerError,
  OriginHttpError,
  OriginNetworkError,
  OriginTimeoutError,
  isRetryable,
} from './origin-errors.js';
import { OriginRangeError } from './origin-range-error.js';
import { PlaylistParseError } from './playlist-parse-error.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfterMs, retryDelayMs } from './retry-policy.js';
import type { RetryPolicy } from './retry-policy.js';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface RetryEvent {
  url: string;
  /** 0 for the first retry. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface OriginClientOptions extends ConnectionSettings {
  /**
   * Longest time a whole body may take once its headers arrived: a body dripping a byte at a time
   * never trips bodyTimeoutMs, and would hold a segment forever.
   */
  bodyDeadlineMs?: number;
  /** The same for a playlist body (small: a drip must not outlast the loader's limits). */
  playlistDeadlineMs?: number;
  /** A playlist body larger than this (after decoding) is refused. */
  maxPlaylistBytes?: number;
  retry?: RetryPolicy;
  userAgent?: string;
  /** Observability hook, called before each backoff wait. */
  onRetry?: (event: RetryEvent) => void;
  /** Observability hook, called once per HTTP exchange (each redirect hop counts). */
  onRequest?: (event: OriginRequestEvent) => void;
  /** Sent with every request (an origin's Authorization, say); from the app's origins entry. */
  headers?: Record<string, string>;
  /** PEM certificates trusted for an HTTPS origin, besides the system's. */
  ca?: string;
  /**
   * Connections shared with other clients (a worker's dumps). The connection settings above are
   * then the shared ones'; without them the client has an Agent of its own, at most
   * `connectionsPerOrigin` (16) connections per origin.
   */
  connections?: OriginConnections;
}

/** Part of a resource (EXT-X-BYTERANGE): `length` bytes from `offset`. */
export interface RequestRange {
  offset: number;
  length: number;
}

/** How one request to the origin went: the status it answered, or why none came. */
export type OriginRequestEvent =
  { url: string; status: number } | { url: string; failure: 'timeout' | 'network' | 'aborted' };

export interface GetTextOptions {
  signal?: AbortSignal;
  retry?: RetryPolicy;
  /** Treat 404 like a 5xx (the stream may be starting up). */
  retryOn404?: boolean;
  /** Overrides the client's headers timeout for this request (blocking reloads hold for long). */
  headersTimeoutMs?: number;
  /**
   * An abort before the answer comes leaves the request running on its connection, its answer
   * thrown away, rather than closing the connection under it (see dispatchGet's `abandonTo`): for
   * a request the origin may hold for seconds, a blocking playlist reload. The client's close does
   * not wait for such a request; closing the connections ends it.
   */
  abandonOnAbort?: boolean;
}

export interface DownloadInfo {
  status: number;
  headers: ResponseHeaders;
}

interface OpenResponse {
  status: number;
  headers: ResponseHeaders;
  body: OriginBody;
  url: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
export const DEFAULT_MAX_PLAYLIST_BYTES = 16 * 1024 * 1024;
const CLOSE_GRACE_MS = 2_000;

// Socket-level failure codes that mean "the transport broke", as opposed to a sink's own
// failure (ENOSPC, EACCES...) that must not be retried by re-downloading.
const TRANSPORT_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

/**
 * HTTP access to the origin, through an undici Agent of its own or one it shares with other
 * clients (`OriginConnections`).
 */
export class OriginClient {
  /** Time its connections wait for response headers; a held blocking reload asks for more. */
  readonly headersTimeoutMs: number;
  readonly bodyDeadlineMs: number;
  readonly playlistDeadlineMs: number;
  readonly maxPlaylistBytes: number;
  readonly retry: RetryPolicy;
  private readonly userAgent: string;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  private readonly onRequest: ((event: OriginRequestEvent) => void) | undefined;
  private readonly headers: Record<string, string>;
  /** Its connections: an Agent of its own or a share of `options.connections`. */
  private readonly lease: ConnectionsLease;
  /** This client's requests, which its close ends (and only these, on shared connections). */
  private readonly inFlight = new InFlightRequests();
  private closed = false;

  constructor(options: OriginClientOptions = {}) {
    this.headersTimeoutMs =
      options.connections?.headersTimeoutMs ??
      options.headersTimeoutMs ??
      DEFAULT_HEADERS_TIMEOUT_MS;
    this.bodyDeadlineMs = options.bodyDeadlineMs ?? 30_000;
    this.playlistDeadlineMs = options.playlistDeadlineMs ?? 10_000;
    this.maxPlaylistBytes = options.maxPlaylistBytes ?? DEFAULT_MAX_PLAYLIST_BYTES;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.userAgent = options.userAgent ?? 'hlsdump/0.1';
    this.onRetry = options.onRetry;
    this.onRequest = options.onRequest;
    this.headers = { ...options.headers };
    this.lease =
      options.connections?.acquire(options.ca) ??
      ownConnections(
        { ...options, connectionsPerOrigin: options.connectionsPerOrigin ?? 16 },
        options.ca,
      );
  }

  /** GET a text body (playlists). Retries per policy; 4xx thrown at once unless retryOn404. */
  async getText(
    url: string,
    options: GetTextOptions = {},
  ): Promise<{ text: string; url: string; status: number }> {
    const { signal } = options;
    return this.withRetries(
      url,
      options.retry ?? this.retry,
      signal,
      options.retryOn404 ?? false,
      async () => {
        const res = await this.open(url, signal, PLAYLIST_ACCEPT_ENCODING, {
          headersTimeoutMs: options.headersTimeoutMs,
          abandonOnAbort: options.abandonOnAbort,
        });
        if (res.status < 200 || res.status > 299) {
          await dumpQuietly(res.body);
          throw httpError(res);
        }
        const deadline = this.bodyDeadline(res, this.playlistDeadlineMs);
        let text: string;
        try {
          checkAnswer(res.status, res.headers, res.url);
          text = await readPlaylistText(res.body, res.headers, res.url, this.maxPlaylistBytes);
          refuseHtmlPlaylist(text, res.headers, res.url);
        } catch (error) {
          discardBody(res.body);
          throw toOriginError(error, res.url, signal);
        } finally {
          clearTimeout(deadline);
        }
        return { text, url: res.url, status: res.status };
      },
    );
  }

  /**
   * GET a body and hand it, streaming, to `sink`. A transport failure mid-body (dropped
   * connection, stall past bodyTimeout) is retried by calling `sink` again with a fresh body,
   * so the sink must be re-callable. A failure of the sink itself is not retried.
   */
  async download<T>(
    url: string,
    sink: (body: Readable, info: DownloadInfo) => Promise<T>,
    options: { signal?: AbortSignal; retry?: RetryPolicy; range?: RequestRange } = {},
  ): Promise<T> {
    const { signal, range } = options;
    return this.withRetries(url, options.retry ?? this.retry, signal, false, async () => {
      const res = await this.open(url, signal, MEDIA_ACCEPT_ENCODING, { range });
      if (res.status < 200 || res.status > 299) {
        await dumpQuietly(res.body);
        throw httpError(res);
      }
      if (range !== undefined && res.status !== 206) {
        // A whole body where a part was asked for would be copied as the wrong bytes.
        await dumpQuietly(res.body);
        throw new OriginRangeError(res.url, res.status);
      }
      let body: Readable;
      try {
        // A 206 is what a Range request asks for; to any other it must span the whole resource.
        if (range === undefined) checkAnswer(res.status, res.headers, res.url);
        body = htmlGuard(decodedBody(res.body, res.headers, res.url), res.headers, res.url);
      } catch (error) {
        discardBody(res.body);
        throw error;
      }
      // Remember how the body itself failed: a sink using pipeline() reports the same error,
      // but a sink may also wrap or swallow it.
      let bodyError: unknown;
      const remember = (error: unknown): void => {
        bodyError ??= asDecodeError(error, res.url) ?? error;
      };
      res.body.on('error', remember);
      if (body !== res.body) body.on('error', remember);
      const deadline = this.bodyDeadline(res, this.bodyDeadlineMs);
      let result: T;
      try {
        result = await sink(body, { status: res.status, headers: res.headers });
      } catch (error) {
        discardBody(res.body);
        if (signal?.aborted) throw abortReason(signal);
        const cause = bodyError ?? error;
        if (isTransportError(cause)) throw toOriginError(cause, res.url, signal);
        throw error;
      } finally {
        clearTimeout(deadline);
      }
      if (bodyError !== undefined) {
        // The sink resolved on a broken body: its output is truncated, so fetch again.
        throw toOriginError(bodyError, res.url, signal);
      }
      // A sink that stopped reading early must not leave the socket unusable.
      if (!res.body.complete) await dumpQuietly(res.body);
      return result;
    });
  }

  /** Graceful close; in-flight requests still running after a short grace are cancelled. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inFlight.drain(CLOSE_GRACE_MS, new Error('OriginClient is closed'));
    await this.lease.release();
  }

  private async withRetries<T>(
    url: string,
    policy: RetryPolicy,
    signal: AbortSignal | undefined,
    retryOn404: boolean,
    attemptOnce: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      try {
        return await attemptOnce();
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal);
        const retryable =
          !this.closed &&
          (isRetryable(error) ||
            (retryOn404 && error instanceof OriginHttpError && error.status === 404));
        if (!retryable || attempt >= policy.maxRetries) throw error;
        const retryAfter = error instanceof OriginHttpError ? error.retryAfterMs : undefined;
        const delayMs = retryDelayMs(policy, attempt, retryAfter);
        this.onRetry?.({ url, attempt, delayMs, error });
        await abortableDelay(delayMs, signal);
      }
    }
  }

  /** Destroys the body with ORIGIN_BODY_TOO_SLOW once it has taken longer than `deadlineMs`. */
  private bodyDeadline(res: OpenResponse, deadlineMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      discardBody(
        res.body,
        new OriginAnswerError(
          'ORIGIN_BODY_TOO_SLOW',
          res.url,
          `the body took longer than ${deadlineMs} ms`,
        ),
      );
    }, deadlineMs);
    timer.unref();
    return timer;
  }

  /** One GET, following redirects by hand so that the final URL is known (relative URIs resolve against it). */
  private async open(
    url: string,
    signal: AbortSignal | undefined,
    acceptEncoding: string,
    request: {
      headersTimeoutMs?: number | undefined;
      range?: RequestRange | undefined;
      abandonOnAbort?: boolean | undefined;
    },
  ): Promise<OpenResponse> {
    const { headersTimeoutMs, range, abandonOnAbort } = request;
    if (this.closed) throw new Error('OriginClient is closed');
    let current = url;
    const visited = new Set<string>();
    for (let hop = 0; ; hop++) {
      visited.add(current);
      let response: OpenResponse;
      try {
        const res = await dispatchGet(this.lease.agent, current, {
          headers: {
            ...this.headers,
            'user-agent': this.userAgent,
            'accept-encoding': acceptEncoding,
            ...(range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
          },
          signal,
          inFlight: this.inFlight,
          ...(abandonOnAbort ? { abandonTo: this.lease.abandoned } : {}),
          ...(headersTimeoutMs !== undefined ? { headersTimeout: headersTimeoutMs } : {}),
        });
        response = { ...res, url: current };
      } catch (error) {
        const failure = toOriginError(error, current, signal);
        this.onRequest?.({ url: current, failure: failureKind(failure, signal) });
        throw failure;
      }
      this.onRequest?.({ url: current, status: response.status });
      const location = firstHeader(response.headers['location']);
      if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
      await dumpQuietly(response.body);
      let next: string;
      try {
        next = new URL(location, current).href;
      } catch {
        throw new OriginAnswerError(
          'ORIGIN_REDIRECT_LOOP',
          current,
          `${response.status} to an invalid Location (${location.slice(0, 200)})`,
        );
      }
      if (visited.has(next) || hop >= MAX_REDIRECTS) {
        throw new OriginAnswerError(
          'ORIGIN_REDIRECT_LOOP',
          url,
          visited.has(next)
            ? `redirect loop back to ${next}`
            : `more than ${MAX_REDIRECTS} redirects (last to ${next})`,
        );
      }
      current = next;
    }
  }
}

function failureKind(
  error: unknown,
  signal: AbortSignal | undefined,
): 'timeout' | 'network' | 'aborted' {
  if (signal?.aborted) return 'aborted';
  return error instanceof OriginTimeoutError ? 'timeout' : 'network';
}

function httpError(res: OpenResponse): OriginHttpError {
  return new OriginHttpError(res.status, res.url, parseRetryAfterMs(res.headers['retry-after']));
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isTransportError(error: unknown): boolean {
  if (
    error instanceof OriginNetworkError ||
    error instanceof OriginTimeoutError ||
    error instanceof OriginAnswerError
  ) {
    return true;
  }
  if (error instanceof errors.UndiciError) return !(error instanceof errors.InvalidArgumentError);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSPORT_ERROR_CODES.has(code);
}

/** Maps undici/socket failures onto our named errors; an abort surfaces as the signal's reason. */
function toOriginError(error: unknown, url: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return abortReason(signal);
  if (
    error instanceof OriginHttpError ||
    error instanceof OriginNetworkError ||
    error instanceof OriginTimeoutError ||
    error instanceof OriginAnswerError ||
    error instanceof PlaylistParseError
  ) {
    return error;
  }
  const decodeError = asDecodeError(error, url);
  if (decodeError) return decodeError;
  if (error instanceof errors.HeadersOverflowError) {
    return new OriginAnswerError(
      'ORIGIN_HEADERS_TOO_LARGE',
      url,
      'the response header block exceeds the client limit',
      { cause: error },
    );
  }
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  ) {
    return new OriginTimeoutError(url, error);
  }
  // A bad URL or option is a programming error, not something a retry can fix.
  if (error instanceof errors.InvalidArgumentError || error instanceof TypeError) return error;
  return new OriginNetworkError(url, error);
}

async function dumpQuietly(body: OriginBody): Promise<void> {
  if (body.destroyed || body.complete) return;
  try {
    await body.dump();
  } catch {
    // The body is being thrown away; its failure changes nothing.
  }
}
