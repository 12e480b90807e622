// Writes a reply, optionally misbehaving mid-body the way a flaky origin or network would.
import type { ServerResponse } from 'node:http';

export interface SendFaults {
  /** Destroy the socket after half the body. */
  readonly drop?: boolean;
  /** Pause this many ms after half the body, then finish. */
  readonly stallMs?: number;
  /** Cuts a stall short (origin closing). */
  readonly signal?: AbortSignal;
}

export interface ReplyLike {
  readonly status: number;
  readonly contentType?: string;
  readonly body?: Buffer;
}

export async function sendReply(
  res: ServerResponse,
  reply: ReplyLike,
  faults: SendFaults = {},
): Promise<void> {
  if (res.destroyed || res.headersSent) return;
  const body = reply.body ?? Buffer.alloc(0);
  res.writeHead(reply.status, {
    'Content-Type': reply.contentType ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': 'no-cache',
    'Access-Control-Allow-Origin': '*',
  });
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  if (!faults.drop && faults.stallMs === undefined) {
    res.end(body);
    return;
  }
  const half = Math.floor(body.length / 2);
  await new Promise<void>((resolve) => res.write(body.subarray(0, half), () => resolve()));
  if (faults.drop) {
    // The declared Content-Length is never reached, so the client sees a truncated body.
    res.socket?.destroy();
    return;
  }
  await abortableDelay(faults.stallMs ?? 0, faults.signal);
  if (!res.destroyed) res.end(body.subarray(half));
}

export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
