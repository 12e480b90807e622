import type { MediaSegment } from '@hlsdump/hls-client';

/**
 * The program date-time of every segment of a playlist, by media sequence number. RFC 8216 lets an
 * origin tag only some segments; a client extrapolates the rest by adding durations, up to the next
 * discontinuity. The dump writes the value on every segment, so a cut-out stretch keeps its clock.
 */
export function programDateTimes(
  segments: readonly MediaSegment[],
  fromMsn = -Infinity,
): Map<number, string> {
  const result = new Map<number, string>();
  let next: number | undefined;
  // Only segments from `fromMsn` on are asked for (a reload's new ones): the walk starts at the
  // last segment before them that sets the clock (its own date, or a discontinuity that clears it),
  // rather than parsing every date of a long window on every reload.
  let start = segments.length - 1;
  while (start > 0) {
    const segment = segments[start]!;
    if (segment.msn <= fromMsn && (segment.programDateTime !== undefined || segment.discontinuity))
      break;
    start--;
  }
  for (const segment of segments.slice(Math.max(start, 0))) {
    if (segment.discontinuity) next = undefined;
    if (segment.programDateTime !== undefined) {
      result.set(segment.msn, segment.programDateTime);
      const parsed = Date.parse(segment.programDateTime);
      next = Number.isNaN(parsed) ? undefined : parsed;
    } else if (next !== undefined) {
      result.set(segment.msn, new Date(next).toISOString());
    }
    if (next !== undefined) next += segment.duration * 1000;
  }
  return result;
}
