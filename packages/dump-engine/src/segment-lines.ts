import type { ChunklistEntry } from './dump-types.js';

/**
 * The lines one segment takes in a local chunklist, given the entry written before it (none for
 * the first). Tags that stay in effect until replaced (EXT-X-KEY, EXT-X-MAP) are written only when
 * they change, and again after a discontinuity so that each run of segments stands alone.
 */
export function segmentLines(entry: ChunklistEntry, previous: ChunklistEntry | undefined): string {
  let lines = '';
  const restart = entry.discontinuity && previous !== undefined;
  if (restart) lines += '#EXT-X-DISCONTINUITY\n';
  const keys = entry.keys ?? [];
  if (!sameLines(keys, previous?.keys ?? []) || (restart && keys.length > 0)) {
    // Segments after an encrypted run are clear only if the playlist says so.
    lines += keys.length === 0 ? '#EXT-X-KEY:METHOD=NONE\n' : `${keys.join('\n')}\n`;
  }
  if (entry.map !== undefined && (entry.map !== previous?.map || entry.discontinuity)) {
    lines += `#EXT-X-MAP:URI="${entry.map}"\n`;
  }
  for (const tag of entry.tags ?? []) lines += `${tag}\n`;
  if (entry.programDateTime !== undefined) {
    lines += `#EXT-X-PROGRAM-DATE-TIME:${entry.programDateTime}\n`;
  }
  if (entry.gap === true) lines += '#EXT-X-GAP\n';
  lines += `#EXTINF:${formatDuration(entry.duration)},${entry.title ?? ''}\n${entry.file}\n`;
  return lines;
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

function formatDuration(seconds: number): string {
  // Enough precision for frame-exact durations without float noise like 3.9999999999.
  return Number(seconds.toFixed(6)).toString();
}
