import {
  parseMediaPlaylist,
  type OriginClient,
  type RenditionDetails,
  type RetryPolicy,
} from '@hlsdump/hls-client';
import { DumpError } from './dump-error.js';
import { programDateTimes } from './program-date-time.js';

/**
 * Where a dump starts (docs/api.md#start-extensions, `from`): `live` (OME's: the live edge), `window` (the oldest
 * segment every rendition still holds), or an ISO 8601 time (the first segment whose program
 * date-time reaches it). The same media sequence number on every rendition, whichever it is.
 */
export type StartFrom = { kind: 'live' } | { kind: 'window' } | { kind: 'time'; at: number };

/** An ISO 8601 date and time with seconds and a zone (Z or ±hh:mm), fractions allowed. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** undefined when `from` is none of the three. */
export function parseStartFrom(from: string | undefined): StartFrom | undefined {
  if (from === undefined || from === 'live') return { kind: 'live' };
  if (from === 'window') return { kind: 'window' };
  if (!ISO_TIME.test(from)) return undefined;
  const at = Date.parse(from);
  return Number.isNaN(at) ? undefined : { kind: 'time', at };
}

/** The oldest segment every rendition still lists. */
export function oldestCommonSegment(details: readonly RenditionDetails[]): number {
  return Math.max(...details.map((d) => d.startSn));
}

/**
 * The first segment whose program date-time reaches `at`, judged on every rendition's playlist
 * as the origin serves it now; a DumpError FROM_OUT_OF_WINDOW naming the window the origin holds
 * when it holds no such segment (too old, or not there yet).
 */
export async function segmentAtTime(
  client: OriginClient,
  renditionUrls: readonly string[],
  at: number,
  options: { signal?: AbortSignal; retry?: RetryPolicy } = {},
): Promise<number> {
  const asked = new Date(at).toISOString();
  let start = -Infinity;
  let firstTime = -Infinity;
  let lastTime = Infinity;
  let msn = -Infinity;
  for (const url of renditionUrls) {
    const { text, url: finalUrl } = await client.getText(url, options);
    const details = parseMediaPlaylist(text, finalUrl);
    const times = [...programDateTimes(details.segments)]
      .map(([segmentMsn, time]) => ({ msn: segmentMsn, at: Date.parse(time) }))
      .filter((entry) => !Number.isNaN(entry.at));
    if (times.length === 0) {
      throw new DumpError(
        'FROM_NOT_SUPPORTED',
        `from ${asked} needs EXT-X-PROGRAM-DATE-TIME, and the origin gives none for ${url}`,
      );
    }
    start = Math.max(start, details.startSn);
    firstTime = Math.max(firstTime, times[0]!.at);
    lastTime = Math.min(lastTime, times.at(-1)!.at);
    const reached = times.find((entry) => entry.at >= at);
    msn = Math.max(msn, reached?.msn ?? Infinity);
  }
  if (at < firstTime || at > lastTime || !Number.isFinite(msn)) {
    throw new DumpError(
      'FROM_OUT_OF_WINDOW',
      `from ${asked} is outside the window the origin holds: segments starting ${new Date(firstTime).toISOString()} to ${new Date(lastTime).toISOString()}`,
    );
  }
  return Math.max(msn, start);
}
