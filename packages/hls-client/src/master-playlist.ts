import { hasMasterTags, normalizePlaylistText, resolveUri, runM3u8Parser } from './m3u8-text.js';
import { PlaylistParseError } from './playlist-parse-error.js';

export interface Variant {
  uri: string;
  relativeUri: string;
  bandwidth?: number;
  audioGroup?: string;
  videoGroup?: string;
  subtitlesGroup?: string;
  /** EXT-X-STREAM-INF attributes as m3u8-parser returns them (RESOLUTION as {width,height}...). */
  attributes: Record<string, unknown>;
}

export type AlternateMediaType = 'AUDIO' | 'VIDEO' | 'SUBTITLES' | 'CLOSED-CAPTIONS';

export interface AlternateMedia {
  type: AlternateMediaType;
  groupId: string;
  name: string;
  uri?: string;
  relativeUri?: string;
  default: boolean;
}

export interface MasterPlaylist {
  url: string;
  variants: Variant[];
  media: AlternateMedia[];
  independentSegments: boolean;
}

const MEDIA_TYPES: readonly AlternateMediaType[] = [
  'AUDIO',
  'VIDEO',
  'SUBTITLES',
  'CLOSED-CAPTIONS',
];

/** True for a multivariant playlist; a media playlist (or garbage) is false. */
export function isMasterPlaylist(text: string): boolean {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  return normalized.trimStart().startsWith('#EXTM3U') && /^#EXT-X-STREAM-INF:/m.test(normalized);
}

/** Parses a multivariant playlist, resolving URIs against `url`. */
export function parseMasterPlaylist(text: string, url: string): MasterPlaylist {
  const normalized = normalizePlaylistText(text, url);
  if (!hasMasterTags(normalized) || /^#EXT(INF|-X-TARGETDURATION):/m.test(normalized)) {
    throw new PlaylistParseError(url, 'is not a master playlist');
  }
  const manifest = runM3u8Parser(normalized, url);
  const variants: Variant[] = (manifest.playlists ?? []).map((item) => {
    const attributes: Record<string, unknown> = { ...item.attributes };
    const variant: Variant = { uri: resolveUri(item.uri, url), relativeUri: item.uri, attributes };
    const bandwidth = attributes['BANDWIDTH'];
    if (typeof bandwidth === 'number' && Number.isFinite(bandwidth)) variant.bandwidth = bandwidth;
    const audio = attributes['AUDIO'];
    if (typeof audio === 'string') variant.audioGroup = audio;
    const video = attributes['VIDEO'];
    if (typeof video === 'string') variant.videoGroup = video;
    const subtitles = attributes['SUBTITLES'];
    if (typeof subtitles === 'string') variant.subtitlesGroup = subtitles;
    return variant;
  });
  if (variants.length === 0) throw new PlaylistParseError(url, 'has no variant streams');

  const media: AlternateMedia[] = [];
  for (const type of MEDIA_TYPES) {
    const groups = manifest.mediaGroups?.[type] ?? {};
    for (const [groupId, renditions] of Object.entries(groups)) {
      for (const [name, rendition] of Object.entries(renditions)) {
        const entry: AlternateMedia = { type, groupId, name, default: rendition.default === true };
        if (typeof rendition.uri === 'string') {
          entry.uri = resolveUri(rendition.uri, url);
          entry.relativeUri = rendition.uri;
        }
        media.push(entry);
      }
    }
  }
  return { url, variants, media, independentSegments: manifest.independentSegments === true };
}

// URI="…" as an attribute of its own (not SERVER-URI, not inside another value).
const URI_ATTRIBUTE = /([:,])URI="([^"]*)"/g;

/**
 * Line-based rewrite that keeps every other line and attribute byte-for-byte as the origin
 * wrote it (a recorded playlist must stay faithful): URI lines and URI="…" attributes are
 * resolved against `url` and replaced by `mapUri(absoluteUri)`. Non-HTTP URIs (data:, skd:
 * key URIs) are left alone, since there is nothing to fetch or rename.
 */
export function rewritePlaylistUris(
  text: string,
  url: string,
  mapUri: (absoluteUri: string) => string,
): string {
  const map = (uri: string): string => {
    const absolute = resolveUri(uri, url);
    return /^https?:/i.test(absolute) ? mapUri(absolute) : uri;
  };
  return text
    .split('\n')
    .map((line) => {
      const cr = line.endsWith('\r') ? '\r' : '';
      const body = cr ? line.slice(0, -1) : line;
      const trimmed = body.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return map(trimmed) + cr;
      if (!trimmed.startsWith('#EXT')) return line; // a comment
      return (
        body.replace(URI_ATTRIBUTE, (_all, sep: string, uri: string) => `${sep}URI="${map(uri)}"`) +
        cr
      );
    })
    .join('\n');
}
