import { abortReason, abortableDelay, throwIfAborted } from './abortable-delay.js';
import type { OriginClient } from './origin-client.js';
import {
  OriginAnswerError,
  OriginHttpError,
  OriginUnreachableError,
  StreamGoneError,
  isRetryable,
} from './origin-errors.js';
import { parseMediaPlaylist } from './media-playlist.js';
import type { RenditionDetails } from './rendition-details.js';
import { PlaylistParseError } from './playlist-parse-error.js';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from './retry-policy.js';
import type { RetryPolicy } from './retry-policy.js';

export interface LoaderLimits {
  /** The playlist answering 404 for this long (since the last good load) → StreamGoneError. */
  goneAfterMs: number;
  /** Network errors / 5xx / unparseable answers for this long → OriginUnreachableError. */
  unreachableAfterMs: number;
}

export interface RenditionLoaderOptions {
  signal: AbortSignal;
  limits: LoaderLimits;
  now?: () => number;
  /** Backoff between failed loads; past maxRetries the capped delay repeats until a limit is hit. */
  retry?: RetryPolicy;
  /**
   * What a blocking reload waits for. `segment` (the default) asks for the next complete segment
   * only (`_HLS_msn` alone): a client that never downloads parts gets the same segment at the same
   * moment with a quarter of the reloads (four parts a segment). `part` follows every part.
   */
  blockFor?: 'segment' | 'part';
}

/** What a reload answering the same text as the last one changed. */
const UNCHANGED = { advanced: false, partsAdvanced: false } as const;
const BLOCKING_PARAMS = new Set(['_HLS_msn', '_HLS_part', '_HLS_skip']);
/** Extra headers-timeout slack on top of the spec's 3 x target duration a server may hold a blocking request. */
const BLOCKING_SLACK_MS = 2_000;

/**
 * Keeps one live media playlist fresh, the way an LL-HLS client should: blocking reloads
 * (`_HLS_msn`/`_HLS_part`) when the server offers them, else reloads every target duration
 * (half of it after an unchanged reload).
 */
export class RenditionLoader {
  private readonly client: OriginClient;
  private readonly url: string;
  private readonly signal: AbortSignal;
  private readonly limits: LoaderLimits;
  private readonly now: () => number;
  private readonly retry: RetryPolicy;
  private readonly blockFor: 'segment' | 'part';

  constructor(client: OriginClient, url: string, options: RenditionLoaderOptions) {
    this.client = client;
    this.url = url;
    this.signal = options.signal;
    this.limits = options.limits;
    this.now = options.now ?? (() => performance.now());
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.blockFor = options.blockFor ?? 'segment';
  }

  /** Yields the first load, then every reload that advanced; returns after a playlist with ENDLIST. */
  async *updates(): AsyncGenerator<RenditionDetails> {
    const signal = this.signal;
    let current: RenditionDetails | undefined;
    /** The text and URL `current` was parsed from. */
    let currentText: string | undefined;
    let currentUrl: string | undefined;
    let lastGoodAt = this.now();
    let failures = 0;
    // Cleared when a blocking request is refused (e.g. 400 after an origin restart).
    let blockingAllowed = true;
    let waitMs = 0;

    for (;;) {
      if (waitMs > 0) await abortableDelay(waitMs, signal);
      throwIfAborted(signal);
      const target =
        current && current.canBlockReload && blockingAllowed
          ? this.blockFor === 'part'
            ? current.nextBlockingTarget()
            : { msn: current.endSn + 1 }
          : undefined;
      const requestUrl = target ? withBlockingParams(this.url, target) : this.url;

      let next: RenditionDetails | undefined;
      let nextText: string;
      let nextUrl: string;
      try {
        const response = await this.client.getText(requestUrl, {
          signal,
          // One attempt per loop turn: the loop owns backoff so that it can watch its limits.
          retry: { ...this.retry, maxRetries: 0 },
          ...(target && current
            ? {
                headersTimeoutMs: Math.max(
                  this.client.headersTimeoutMs,
                  current.targetDuration * 3000 + BLOCKING_SLACK_MS,
                ),
                // Stopped while the origin holds it: its connection is kept for the next request,
                // not closed (every dump of a stop burst has one held per rendition).
                abandonOnAbort: true,
              }
            : {}),
        });
        nextText = response.text;
        // Relative URIs resolve against the URL we asked for, minus our own directives.
        nextUrl = stripBlockingParams(response.url);
        // Most reloads between two segments answer the very text of the last one: nothing to
        // parse, and nothing has changed. Otherwise the segments it repeats are current's.
        if (current === undefined || nextText !== currentText || nextUrl !== currentUrl)
          next = parseMediaPlaylist(nextText, nextUrl, current);
      } catch (error) {
        if (signal.aborted) throw abortReason(signal);
        if (target && error instanceof OriginHttpError && error.status === 400) {
          // The origin rejects our _HLS_msn (its sequence went back): ask plainly next time.
          blockingAllowed = false;
          waitMs = 0;
          continue;
        }
        const elapsed = this.now() - lastGoodAt;
        const is404 = error instanceof OriginHttpError && error.status === 404;
        const limit = is404 ? this.limits.goneAfterMs : this.limits.unreachableAfterMs;
        // An answer that is not a usable playlist (garbage, too large, a redirect loop...) may be
        // a passing glitch: it is asked again like a 5xx, and named as itself past the limit.
        const refused = error instanceof PlaylistParseError || error instanceof OriginAnswerError;
        if (!is404 && !isRetryable(error) && !refused) throw error;
        if (elapsed >= limit) {
          if (refused) throw error;
          throw is404
            ? new StreamGoneError(this.url, elapsed, error)
            : new OriginUnreachableError(this.url, elapsed, error);
        }
        const retryAfter = error instanceof OriginHttpError ? error.retryAfterMs : undefined;
        // Never sleep past the deadline: one last try lands right on it.
        waitMs = Math.min(
          retryDelayMs(this.retry, Math.min(failures, this.retry.maxRetries), retryAfter),
          limit - elapsed,
        );
        failures++;
        continue;
      }

      lastGoodAt = this.now();
      failures = 0;
      blockingAllowed = true;
      const change = next?.reloaded(current) ?? UNCHANGED;
      const wasBlocking = target !== undefined;
      // A stale answer (an older edge copy) must not replace what we know, or its
      // segments would come back as "new" on the following load.
      if (next && (!current || change.advanced || next.endSn >= current.endSn)) {
        current = next;
        currentText = nextText;
        currentUrl = nextUrl;
      }
      if (!current) continue; // unreachable: the first load always parses
      if (change.advanced) {
        yield current;
        // The limits count time spent failing to load, not the time the consumer took with
        // this update (a slow segment download must not make the next failed reload fatal).
        lastGoodAt = this.now();
      }
      if (current.endList) return;

      if (current.canBlockReload) {
        // A held request that came back with nothing new (server timeout, a server ignoring
        // the directive) must not turn into a busy loop: wait like an unchanged reload.
        waitMs =
          change.partsAdvanced || change.advanced ? 0 : wasBlocking ? halfTarget(current) : 0;
      } else {
        waitMs = change.advanced ? reloadIntervalMs(current) : halfTarget(current);
      }
    }
  }
}

/** hls.js's rule: a target duration, or the last segment's duration when shorter. */
function reloadIntervalMs(details: RenditionDetails): number {
  const target = details.targetDuration * 1000;
  const last = details.segments[details.segments.length - 1];
  return Math.round(last && last.duration * 1000 < target ? last.duration * 1000 : target);
}

function halfTarget(details: RenditionDetails): number {
  return Math.round((details.targetDuration * 1000) / 2);
}

/** Appends the delivery directives, keeping the existing query as written (minus old directives). */
export function withBlockingParams(url: string, target: { msn: number; part?: number }): string {
  const base = stripBlockingParams(url);
  const hashAt = base.indexOf('#');
  const withoutHash = hashAt === -1 ? base : base.slice(0, hashAt);
  const directives =
    `_HLS_msn=${target.msn}` + (target.part !== undefined ? `&_HLS_part=${target.part}` : '');
  const sep = withoutHash.includes('?')
    ? withoutHash.endsWith('?') || withoutHash.endsWith('&')
      ? ''
      : '&'
    : '?';
  return withoutHash + sep + directives;
}

function stripBlockingParams(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return url;
  const hashAt = url.indexOf('#', queryAt);
  const query = url.slice(queryAt + 1, hashAt === -1 ? undefined : hashAt);
  const kept = query
    .split('&')
    .filter((pair) => pair !== '' && !BLOCKING_PARAMS.has(pair.split('=')[0] ?? ''));
  return url.slice(0, queryAt) + (kept.length > 0 ? `?${kept.join('&')}` : '');
}
