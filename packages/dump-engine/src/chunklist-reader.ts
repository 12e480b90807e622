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
    return entry;
  });
}
