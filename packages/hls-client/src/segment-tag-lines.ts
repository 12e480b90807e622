/**
 * The tag lines of a media playlist as the origin wrote them, grouped by the segment they belong
 * to. m3u8-parser models the common tags but drops or reshapes the rest (KEYFORMAT, DATERANGE
 * attributes, SCTE-35 cue tags...); a copy of the playlist needs them byte for byte.
 */
export interface SegmentTagLines {
  /** The EXT-X-KEY lines in effect for the segment (several when key systems are offered side by side). */
  keys: string[];
  /** Tags written before the segment that the segment model does not carry (DATERANGE, CUE-OUT...). */
  other: string[];
}

export interface PlaylistTagLines {
  /** Per complete segment (URI line), in order. */
  segments: SegmentTagLines[];
  /** Playlist-wide tags the rendition model does not carry (EXT-X-START, EXT-X-DEFINE...). */
  header: string[];
}

/** Tags the rendition and segment models already carry, or LL-HLS tags a VOD copy never keeps. */
const MODELLED = new Set([
  'EXTM3U',
  'EXTINF',
  'EXT-X-VERSION',
  'EXT-X-TARGETDURATION',
  'EXT-X-MEDIA-SEQUENCE',
  'EXT-X-DISCONTINUITY-SEQUENCE',
  'EXT-X-ENDLIST',
  'EXT-X-PLAYLIST-TYPE',
  'EXT-X-INDEPENDENT-SEGMENTS',
  'EXT-X-I-FRAMES-ONLY',
  'EXT-X-BYTERANGE',
  'EXT-X-DISCONTINUITY',
  'EXT-X-MAP',
  'EXT-X-PROGRAM-DATE-TIME',
  'EXT-X-GAP',
  'EXT-X-KEY',
  'EXT-X-PART',
  'EXT-X-PART-INF',
  'EXT-X-SERVER-CONTROL',
  'EXT-X-PRELOAD-HINT',
  'EXT-X-RENDITION-REPORT',
  'EXT-X-SKIP',
]);

/** Playlist-wide tags (RFC 8216 §4.3.3, §4.3.5): never attached to a segment. */
const HEADER_TAGS = new Set(['EXT-X-START', 'EXT-X-DEFINE', 'EXT-X-CONTENT-STEERING']);

export function tagName(line: string): string {
  const colon = line.indexOf(':');
  return (colon < 0 ? line : line.slice(0, colon)).slice(1).trim();
}

/** Splits a normalized media playlist (LF line ends) into per-segment tag lines. */
export function playlistTagLines(normalizedText: string): PlaylistTagLines {
  const segments: SegmentTagLines[] = [];
  const header: string[] = [];
  let pending: string[] = [];
  let keys: string[] = [];
  // A KEY after a segment replaces the keys in effect; consecutive KEY lines add up.
  let keysFollowSegment = true;
  for (const raw of normalizedText.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      segments.push({ keys: [...keys], other: pending });
      pending = [];
      keysFollowSegment = true;
      continue;
    }
    if (!line.startsWith('#EXT')) continue; // a comment
    const name = tagName(line);
    if (name === 'EXT-X-KEY') {
      if (keysFollowSegment) keys = [];
      keysFollowSegment = false;
      keys.push(line);
    } else if (HEADER_TAGS.has(name)) {
      header.push(line);
    } else if (!MODELLED.has(name)) {
      pending.push(line);
    }
  }
  return { segments, header };
}

/** The attributes of a tag line (`#EXT-X-KEY:METHOD=AES-128,URI="k"`), quotes removed. */
export function tagAttributes(line: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const colon = line.indexOf(':');
  if (colon < 0) return attributes;
  const list = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  for (const match of line.slice(colon + 1).matchAll(list)) {
    const value = match[2] ?? '';
    attributes.set(match[1] ?? '', value.startsWith('"') ? value.slice(1, -1) : value);
  }
  return attributes;
}
