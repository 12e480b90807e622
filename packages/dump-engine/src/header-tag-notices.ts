import { tagName } from '@hlsdump/hls-client';

const WHY: Record<string, string> = {
  'EXT-X-START':
    'not copied: a start point chosen for the live playlist does not fit the recorded copy',
  'EXT-X-DEFINE':
    'not copied: variables are not substituted, so URIs or attributes that use them are copied verbatim',
};

/** Playlist-wide tags of a media playlist that the local chunklist does not carry, and why. */
export function headerTagNotices(
  headerTags: readonly string[],
): { tag: string; message: string }[] {
  return headerTags.map((line) => {
    const tag = tagName(line);
    return { tag, message: WHY[tag] ?? 'not copied: the dump does not know this tag' };
  });
}
