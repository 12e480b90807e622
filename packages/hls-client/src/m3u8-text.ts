import { Parser } from 'm3u8-parser';
import type { Manifest } from 'm3u8-parser';
import { PlaylistParseError } from './playlist-parse-error.js';

/** Tags only a multivariant (master) playlist carries. */
const MASTER_TAG = /^#EXT-X-(STREAM-INF|I-FRAME-STREAM-INF|MEDIA|SESSION-DATA|SESSION-KEY):/m;

/** Normalises line endings and a BOM, and checks the mandatory first line. */
export function normalizePlaylistText(text: string, url: string): string {
  const unmarked = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Most origins end lines with LF alone: a scan for CR is cheaper than a replace that finds none.
  const normalized = unmarked.includes('\r') ? unmarked.replace(/\r\n?/g, '\n') : unmarked;
  if (!normalized.trimStart().startsWith('#EXTM3U')) {
    throw new PlaylistParseError(url, 'does not start with #EXTM3U');
  }
  return normalized;
}

export function hasMasterTags(text: string): boolean {
  return MASTER_TAG.test(text);
}

/** Runs m3u8-parser, teaching it the one tag we need that it ignores (EXT-X-GAP). */
export function runM3u8Parser(normalizedText: string, url: string): Manifest {
  const parser = new Parser();
  parser.addParser({
    expression: /^#EXT-X-GAP\b/,
    customType: 'gap',
    dataParser: () => 'YES',
    segment: true,
  });
  try {
    parser.push(normalizedText);
    parser.end();
  } catch (error) {
    // The parser is a third party's: whatever it throws on hostile text is this playlist's fault.
    throw new PlaylistParseError(url, `cannot be parsed: ${(error as Error).message}`);
  }
  return parser.manifest;
}

/** URIs in a playlist are relative to the playlist's own (final) URL. */
export function resolveUri(uri: string, base: string): string {
  if (typeof uri !== 'string') throw new PlaylistParseError(base, 'names an entry without a URI');
  try {
    return new URL(uri, base).href;
  } catch {
    throw new PlaylistParseError(base, `names an invalid URI (${uri.slice(0, 200)})`);
  }
}
