import type { Manifest, Segment } from 'm3u8-parser';
import { hasMasterTags, normalizePlaylistText, runM3u8Parser } from './m3u8-text.js';
import { PlaylistParseError } from './playlist-parse-error.js';
import { readPlainPlaylist } from './plain-media-playlist.js';
import { playlistUriResolver } from './playlist-uris.js';
import {
  MediaSegment,
  PartialSegment,
  RenditionDetails,
  type ByteRange,
  type SegmentKey,
} from './rendition-details.js';
import { playlistTagLines, type SegmentTagLines } from './segment-tag-lines.js';

/**
 * Parses a media playlist, resolving URIs against `url` (the playlist's final URL).
 * Throws PlaylistParseError on anything that is not a media playlist.
 *
 * `previous` is the last load of the same playlist: a live reload repeats most of its segments
 * line for line, and those are taken from it as they are instead of being read again (the plain
 * shape only, plain-media-playlist.ts). The result is the same with or without it.
 */
export function parseMediaPlaylist(
  text: string,
  url: string,
  previous?: RenditionDetails,
): RenditionDetails {
  const normalized = mediaPlaylistText(text, url);
  const plain = readPlainPlaylist(normalized, url, previous);
  if (plain === undefined) return readByM3u8Parser(normalized, url);
  const details = renditionOf(plain.manifest, url);
  const resolve = playlistUriResolver(url);
  details.segments = plain.segments((segment, msn) => toMediaSegment(segment, msn, resolve));
  withPending(details, plain.manifest, resolve);
  return details;
}

/** parseMediaPlaylist with every line read by m3u8-parser: what the plain reader is held equal to. */
export function parseMediaPlaylistByM3u8Parser(text: string, url: string): RenditionDetails {
  return readByM3u8Parser(mediaPlaylistText(text, url), url);
}

/** The text normalized, or the error naming why it is no media playlist we can follow. */
function mediaPlaylistText(text: string, url: string): string {
  const normalized = normalizePlaylistText(text, url);
  if (hasMasterTags(normalized))
    throw new PlaylistParseError(url, 'is a master playlist, not a media playlist');
  if (!/^#EXT-X-TARGETDURATION:/m.test(normalized)) {
    throw new PlaylistParseError(url, 'has no #EXT-X-TARGETDURATION');
  }
  // Delta updates are only sent when asked for (_HLS_skip), which we never do.
  if (/^#EXT-X-SKIP:/m.test(normalized))
    throw new PlaylistParseError(url, 'is a delta update (EXT-X-SKIP)');
  return normalized;
}

/** The details of a playlist m3u8-parser reads whole, with the tag lines it does not model. */
function readByM3u8Parser(normalized: string, url: string): RenditionDetails {
  const manifest = runM3u8Parser(normalized, url);
  const details = renditionOf(manifest, url);
  details.iFramesOnly = /^#EXT-X-I-FRAMES-ONLY\b/m.test(normalized);
  const tagLines = playlistTagLines(normalized);
  details.headerTags = tagLines.header;
  const resolve = playlistUriResolver(url);
  details.segments = manifest.segments.map((segment, i) =>
    withTagLines(toMediaSegment(segment, details.mediaSequence + i, resolve), tagLines.segments[i]),
  );
  withPending(details, manifest, resolve);
  return details;
}

/** The details of the playlist-wide fields, checked. */
function renditionOf(manifest: Manifest, url: string): RenditionDetails {
  const targetDuration = manifest.targetDuration;
  // A zero target duration would turn the reload loop into a busy loop.
  if (targetDuration === undefined || !Number.isFinite(targetDuration) || targetDuration <= 0) {
    throw new PlaylistParseError(url, 'has an invalid #EXT-X-TARGETDURATION');
  }
  if (!isSequenceNumber(manifest.mediaSequence ?? 0))
    throw new PlaylistParseError(url, 'has an invalid #EXT-X-MEDIA-SEQUENCE');
  const details = new RenditionDetails(
    url,
    targetDuration,
    manifest.mediaSequence ?? 0,
    manifest.discontinuitySequence ?? 0,
  );
  if (manifest.version !== undefined) details.version = manifest.version;
  details.endList = manifest.endList === true;
  details.independentSegments = manifest.independentSegments === true;
  if (manifest.playlistType === 'EVENT' || manifest.playlistType === 'VOD')
    details.playlistType = manifest.playlistType;
  applyServerControl(details, manifest);
  return details;
}

/** The parts of the segment in progress, after the last complete one, and its preload hint. */
function withPending(
  details: RenditionDetails,
  manifest: Manifest,
  resolve: (uri: string) => string,
): void {
  const pending = manifest.preloadSegment;
  if (!pending) return;
  const msn = details.endSn + 1;
  details.parts = toParts(pending.parts, msn, resolve);
  const hints = (pending.preloadHints ?? []) as { type?: unknown; uri?: unknown }[];
  // The PART hint is the one a blocking client can prefetch; a MAP hint is kept if alone.
  const hint = hints.find((h) => h.type === 'PART') ?? hints.find((h) => h.type === 'MAP');
  if (hint && (hint.type === 'PART' || hint.type === 'MAP') && typeof hint.uri === 'string') {
    details.preloadHint = {
      type: hint.type,
      uri: resolve(hint.uri),
      relativeUri: hint.uri,
    };
  }
}
function applyServerControl(details: RenditionDetails, manifest: Manifest): void {
  const control = manifest.serverControl as Record<string, unknown> | undefined;
  if (control) {
    details.canBlockReload = control['canBlockReload'] === true;
    const partHoldBack = finiteNumber(control['partHoldBack']);
    if (partHoldBack !== undefined) details.partHoldBack = partHoldBack;
    // m3u8-parser fills in the spec default (3 x target duration) when HOLD-BACK is absent.
    const holdBack = finiteNumber(control['holdBack']);
    if (holdBack !== undefined) details.holdBack = holdBack;
    const canSkipUntil = finiteNumber(control['canSkipUntil']);
    if (canSkipUntil !== undefined) details.canSkipUntil = canSkipUntil;
  }
  const partTarget = finiteNumber(manifest.partTargetDuration);
  if (partTarget !== undefined) details.partTarget = partTarget;
}

function toMediaSegment(
  segment: Segment,
  msn: number,
  resolve: (uri: string) => string,
): MediaSegment {
  const custom = (segment as { custom?: Record<string, unknown> }).custom;
  return new MediaSegment({
    msn,
    uri: resolve(segment.uri),
    relativeUri: segment.uri,
    duration: segment.duration,
    title: segment.title,
    discontinuity: segment.discontinuity === true,
    discontinuitySequence: segment.timeline ?? 0,
    programDateTime: segment.dateTimeString,
    map: segment.map
      ? {
          uri: resolve(segment.map.uri),
          relativeUri: segment.map.uri,
          ...(segment.map.byterange ? { byterange: { ...segment.map.byterange } } : {}),
        }
      : undefined,
    byterange: segment.byterange ? { ...segment.byterange } : undefined,
    gap: custom?.['gap'] !== undefined,
    key: segment.key ? toKey(segment.key, resolve) : undefined,
    parts: toParts(segment.parts, msn, resolve),
  });
}

function withTagLines(segment: MediaSegment, lines: SegmentTagLines | undefined): MediaSegment {
  if (lines) {
    segment.keyLines = lines.keys;
    segment.tagLines = lines.other;
  }
  return segment;
}

function toKey(key: NonNullable<Segment['key']>, resolve: (uri: string) => string): SegmentKey {
  const result: SegmentKey = { method: key.method };
  if (key.uri) result.uri = resolve(key.uri);
  if (key.iv)
    result.iv = '0x' + Array.from(key.iv, (word) => word.toString(16).padStart(8, '0')).join('');
  return result;
}

function toParts(
  parts: unknown[] | undefined,
  msn: number,
  resolve: (uri: string) => string,
): PartialSegment[] {
  return (parts ?? []).map((raw, index) => {
    const part = raw as {
      uri?: unknown;
      duration?: unknown;
      independent?: unknown;
      gap?: unknown;
      byterange?: unknown;
    };
    const relativeUri = typeof part.uri === 'string' ? part.uri : '';
    const byterange = part.byterange as Partial<ByteRange> | undefined;
    return new PartialSegment({
      msn,
      index,
      uri: relativeUri ? resolve(relativeUri) : '',
      relativeUri,
      duration: finiteNumber(part.duration) ?? 0,
      independent: part.independent === true,
      byterange:
        byterange && byterange.length !== undefined
          ? { length: byterange.length, offset: byterange.offset ?? 0 }
          : undefined,
      gap: part.gap === true,
    });
  });
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isSequenceNumber(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
