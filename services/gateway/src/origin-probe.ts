import { Agent, interceptors, request } from 'undici';
import { statusWithCa } from './ca-request.js';
import { OriginProbeError, StreamNotFoundError } from './errors.js';
import type { OriginAccess } from './origins.js';

/**
 * Does the origin have the stream? One GET of its master playlist (docs/api.md#start-checks, check 5). The worker
 * fetches it again for real; this only turns "no such stream" into OME's 404 before enqueueing.
 * Identical probes in flight at once share their GET.
 */
export type OriginProbe = (url: string, streamPath: string, access?: OriginAccess) => Promise<void>;

export function httpOriginProbe(timeoutMs: number): OriginProbe {
  // One keep-alive pool for every probe, following redirects as fetch did; undici's request
  // costs a start far less CPU than fetch (no WHATWG streams, nothing loaded lazily on the first).
  const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 20 }));
  const getStatus = async (url: string, headers: Record<string, string>): Promise<number> => {
    // Not AbortSignal.timeout: its timer outlives the probe and fires timeoutMs later for
    // every start (a burst of starts would pay again, all at once, a few seconds on).
    const deadline = new AbortController();
    const timer = setTimeout(
      () =>
        deadline.abort(
          new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
        ),
      timeoutMs,
    );
    try {
      const response = await request(url, { dispatcher, signal: deadline.signal, headers });
      // Always consume the body: an unread body holds the connection.
      await response.body.dump().catch(() => {});
      return response.statusCode;
    } finally {
      clearTimeout(timer);
    }
  };
  // Starts of dumps of one stream asking at the same moment share one GET: its answer is the
  // origin's answer to each of them (a burst of starts spread over a few streams costs a GET per
  // stream, not per start). Only probes in flight are shared; nothing is remembered after.
  const inFlight = new Map<string, Promise<number>>();
  const sharedStatus = (url: string, access: OriginAccess | undefined): Promise<number> => {
    const headers = access?.headers ?? {};
    const key = JSON.stringify([url, headers, access?.caFile ?? null]);
    let status = inFlight.get(key);
    if (!status) {
      status = (
        access?.caFile !== undefined
          ? statusWithCa(url, access.caFile, headers, timeoutMs)
          : getStatus(url, headers)
      ).finally(() => inFlight.delete(key));
      inFlight.set(key, status);
    }
    return status;
  };
  return async (url, streamPath, access) => {
    let status: number;
    try {
      status = await sharedStatus(url, access);
    } catch (error) {
      const failure = error as Error & {
        code?: string;
        cause?: { code?: string; message?: string };
      };
      const reason =
        failure.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : (failure.cause?.code ??
            failureCode(failure) ??
            failure.cause?.message ??
            failure.message);
      throw new OriginProbeError(url, reason);
    }
    if (status === 404 || status === 410) throw new StreamNotFoundError(streamPath);
    if (status < 200 || status > 299) throw new OriginProbeError(url, `HTTP ${status}`);
  };
}

/** A system error's code (ECONNREFUSED, …); undici's own codes (UND_ERR_…) say less than its message. */
function failureCode(error: { code?: string }): string | undefined {
  return error.code !== undefined && !error.code.startsWith('UND_ERR') ? error.code : undefined;
}
