import { statusWithCa } from './ca-request.js';
import { OriginProbeError, StreamNotFoundError } from './errors.js';
import type { OriginAccess } from './origins.js';

/**
 * Does the origin have the stream? One GET of its master playlist (docs/api.md#start-checks, check 5). The worker
 * fetches it again for real; this only turns "no such stream" into OME's 404 before enqueueing.
 */
export type OriginProbe = (url: string, streamPath: string, access?: OriginAccess) => Promise<void>;

export function httpOriginProbe(timeoutMs: number): OriginProbe {
  return async (url, streamPath, access) => {
    let response: Pick<Response, 'status' | 'ok' | 'body'>;
    const headers = access?.headers ?? {};
    try {
      if (access?.caFile !== undefined) {
        const status = await statusWithCa(url, access.caFile, headers, timeoutMs);
        response = { status, ok: status >= 200 && status <= 299, body: null };
      } else {
        response = await fetch(url, {
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'follow',
          headers,
        });
      }
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new OriginProbeError(url, reason);
    }
    // Always consume the body: an unread body holds the connection.
    await response.body?.cancel().catch(() => {});
    if (response.status === 404 || response.status === 410)
      throw new StreamNotFoundError(streamPath);
    if (!response.ok) throw new OriginProbeError(url, `HTTP ${response.status}`);
  };
}
