import { rewritePlaylistUris } from '@hlsdump/hls-client';

/**
 * A tag line kept as the origin wrote it, its URI="…" attributes made absolute: relative to the
 * origin's playlist they would point nowhere from the local copy.
 */
export function resolveUriAttributes(line: string, playlistUrl: string): string {
  return rewritePlaylistUris(line, playlistUrl, (absolute) => absolute);
}
