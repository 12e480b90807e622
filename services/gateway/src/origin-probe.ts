import { Agent, interceptors, request } from 'undici';
import { statusWithCa } from './ca-request.js';
import { OriginProbeError, StreamNotFoundError } from './errors.js';
import type { OriginAccess } from './origins.js';

/**
 * Does the origin have the stream? One GET of its master playlist (docs/api.md#start-checks, check 5). The worker
 * fetches it again for real; this only turns "no such stream" into OME's 404 before enqueueing.
 */
export type OriginProbe = (url: string, streamPath: string, access?: OriginAccess) => Promise<void>;

export function httpOriginProbe(timeoutMs: number): OriginProbe {
  // One keep-alive pool for every probe, following redirects as fetch did; undici's request
  // costs a start far less CPU than fetch (no WHATWG streams, nothing loaded lazily on the first).
  const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 20 }));
  return async (url, streamPath, access) => {
    let status: number;
    const headers = access?.headers ?? {};
    try {
      if (access?.caFile !== undefined) {
        status = await statusWithCa(url, access.caFile, headers, timeoutMs);
      } else {
        const response = await request(url, {
          dispatcher,
          signal: AbortSignal.timeout(timeoutMs),
          headers,
        });
        status = response.statusCode;
        // Always consume the body: an unread body holds the connection.
        await response.body.dump().catch(() => {});
      }
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
