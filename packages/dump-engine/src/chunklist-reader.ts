import { pathToFileURL } from 'node:url';
import { parseMediaPlaylist } from '@hlsdump/hls-client';
import type { ChunklistEntry } from './dump-types.js';

/** The entries of a chunklist this dump wrote, read back from disk for a resumed dump. */
export function readChunklistEntries(text: string, path: string): ChunklistEntry[] {
  const details = parseMediaPlaylist(text, pathToFileURL(path).href);
  return details.segments.map((segment) => {
    const entry: ChunklistEntry = {
      file: segment.relativeUri,
      duration: segment.duration,
      discontinuity: segment.discontinuity,
    };
    if (segment.title) entry.title = segment.title;
    if (segment.programDateTime !== undefined) entry.programDateTime = segment.programDateTime;
    if (segment.map !== undefined) entry.map = segment.map.relativeUri;
    // The dump's own lines, read back so a resumed chunklist writes them again.
    if (segment.keyLines.length > 0) entry.keys = segment.keyLines;
    if (segment.tagLines.length > 0) entry.tags = segment.tagLines;
    if (segment.gap) entry.gap = true;
    if (segment.discontinuitySequence > 0)
      entry.discontinuitySequence = segment.discontinuitySequence;
    return entry;
  });
}
