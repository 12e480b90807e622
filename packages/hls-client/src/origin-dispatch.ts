import type { Dispatcher } from 'undici';
import { abortReason } from './abortable-delay.js';
import type { InFlightRequests } from './in-flight-requests.js';
import { OriginBody } from './origin-body.js';
import type { BodyController } from './origin-body.js';

export interface DispatchedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: OriginBody;
}

export interface DispatchOptions {
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
  /** Where the request is counted while it runs, for its client's close to end it. */
  inFlight?: InFlightRequests | undefined;
  /**
   * An abort before the answer's headers rejects at once but leaves the request running, counted
   * here instead of in `inFlight`: its answer is read and thrown away, so that its connection stays
   * open for the next request instead of being closed (a held blocking reload of a stopped dump).
   */
  abandonTo?: InFlightRequests | undefined;
  headersTimeout?: number;
}

/**
 * One GET through undici's dispatcher with a handler of its own, resolving at the response's
 * headers with the body as an OriginBody: undici's request() wraps every body in a stream of its
 * own, which a segment written chunk by chunk does not need.
 *
 * An abort rejects at once, even while the request still waits for a connection; the request is
 * then cancelled as soon as it starts, or, with `abandonTo`, left to run to its end if no answer
 * has come yet.
 */
export function dispatchGet(
  dispatcher: Dispatcher,
  url: string,
  options: DispatchOptions,
): Promise<DispatchedResponse> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const { origin, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const body = new OriginBody();
    let controller: BodyController | undefined;
    let answered = false;
    let abortedWith: Error | undefined;
    let abandoned = false;

    const cancel = (reason: Error): void => {
      abortedWith = reason;
      if (!answered) {
        answered = true;
        reject(reason);
      }
      controller?.abort(reason);
    };
    const onAbort = (): void => {
      const reason = abortReason(signal!) as Error;
      const { abandonTo } = options;
      if (abandonTo === undefined || answered || controller === undefined) return cancel(reason);
      // Its answer, when it comes, is nobody's: read to its end and thrown away (onResponseStart).
      abandoned = answered = true;
      options.inFlight?.delete(cancel);
      abandonTo.add(cancel);
      reject(reason);
    };
    const done = (): void => {
      signal?.removeEventListener('abort', onAbort);
      options.inFlight?.delete(cancel);
      options.abandonTo?.delete(cancel);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    options.inFlight?.add(cancel);

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(requestController) {
        controller = requestController;
        body.attach(requestController);
        if (abortedWith !== undefined) requestController.abort(abortedWith);
      },
      onResponseStart(_controller, statusCode, headers) {
        if (statusCode < 200) return;
        if (abandoned) void body.dump();
        if (answered) return;
        answered = true;
        resolve({ status: statusCode, headers: headers as DispatchedResponse['headers'], body });
      },
      onResponseData(_controller, chunk) {
        body.received(chunk);
      },
      onResponseEnd() {
        done();
        body.finished();
      },
      onResponseError(_controller, error) {
        done();
        if (!answered) {
          answered = true;
          reject(error);
        } else {
          body.fail(error);
        }
      },
    };
    try {
      dispatcher.dispatch(
        {
          origin,
          path: pathname + search,
          method: 'GET',
          headers: options.headers,
          ...(options.headersTimeout !== undefined
            ? { headersTimeout: options.headersTimeout }
            : {}),
        },
        handler,
      );
    } catch (error) {
      done();
      answered = true;
      reject(error);
    }
  });
}
