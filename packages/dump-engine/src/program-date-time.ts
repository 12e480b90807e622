import type { MediaSegment } from '@hlsdump/hls-client';

/**
 * The program date-time of every segment of a playlist, by media sequence number. RFC 8216 lets an
 * origin tag only some segments; a client extrapolates the rest by adding durations, up to the next
 * discontinuity. The dump writes the value on every segment, so a cut-out stretch keeps its clock.
 */
export function programDateTimes(segments: readonly MediaSegment[]): Map<number, string> {
  const result = new Map<number, string>();
  let next: number | undefined;
  for (const segment of segments) {
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
