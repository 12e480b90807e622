/** What one load of a media playlist says: the model the loader and the engine read. */

export interface ByteRange {
  length: number;
  offset: number;
}

export interface SegmentMap {
  uri: string;
  relativeUri: string;
  byterange?: ByteRange;
}

export interface SegmentKey {
  method: string;
  uri?: string;
  /** Hex text, `0x` + 32 digits. */
  iv?: string;
}

/** A part (EXT-X-PART) of a segment, numbered within its parent segment from 0. */
export class PartialSegment {
  msn: number;
  index: number;
  uri: string;
  relativeUri: string;
  duration: number;
  independent: boolean;
  byterange?: ByteRange;
  gap: boolean;

  constructor(init: {
    msn: number;
    index: number;
    uri: string;
    relativeUri: string;
    duration: number;
    independent: boolean;
    byterange?: ByteRange | undefined;
    gap: boolean;
  }) {
    this.msn = init.msn;
    this.index = init.index;
    this.uri = init.uri;
    this.relativeUri = init.relativeUri;
    this.duration = init.duration;
    this.independent = init.independent;
    if (init.byterange) this.byterange = init.byterange;
    this.gap = init.gap;
  }
}

/** A complete media segment (EXTINF + URI). */
export class MediaSegment {
  msn: number;
  uri: string;
  /** As written in the playlist. */
  relativeUri: string;
  duration: number;
  title?: string;
  discontinuity: boolean;
  /** The discontinuity sequence number this segment belongs to. */
  discontinuitySequence: number;
  /** EXT-X-PROGRAM-DATE-TIME as written (m3u8-parser's Date would lose the offset). */
  programDateTime?: string;
  map?: SegmentMap;
  byterange?: ByteRange;
  gap: boolean;
  key?: SegmentKey;
  /** The parts the playlist still lists for this segment (LL-HLS, near the live edge). */
  parts: PartialSegment[];
  /** The EXT-X-KEY lines in effect for this segment, as the origin wrote them. */
  keyLines: string[] = [];
  /** Tags before this segment that the model does not carry (DATERANGE, CUE-OUT...), as written. */
  tagLines: string[] = [];

  constructor(init: {
    msn: number;
    uri: string;
    relativeUri: string;
    duration: number;
    title?: string | undefined;
    discontinuity: boolean;
    discontinuitySequence: number;
    programDateTime?: string | undefined;
    map?: SegmentMap | undefined;
    byterange?: ByteRange | undefined;
    gap: boolean;
    key?: SegmentKey | undefined;
    parts: PartialSegment[];
  }) {
    this.msn = init.msn;
    this.uri = init.uri;
    this.relativeUri = init.relativeUri;
    this.duration = init.duration;
    if (init.title !== undefined) this.title = init.title;
    this.discontinuity = init.discontinuity;
    this.discontinuitySequence = init.discontinuitySequence;
    if (init.programDateTime !== undefined) this.programDateTime = init.programDateTime;
    if (init.map) this.map = init.map;
    if (init.byterange) this.byterange = init.byterange;
    this.gap = init.gap;
    if (init.key) this.key = init.key;
    this.parts = init.parts;
  }
}

export interface PlaylistChange {
  /** A new complete segment, ENDLIST newly seen, or the stream restarted. */
  advanced: boolean;
  /** Complete segments with msn > previous.endSn (all of them on a first load or restart). */
  newSegments: MediaSegment[];
  /** New parts appeared (in-progress segment grew) even if no segment completed. */
  partsAdvanced: boolean;
  /** Media sequence went backwards past everything previously listed (origin restarted the stream). */
  restarted: boolean;
}

/** One load of a media playlist (a rendition's "level details", in hls.js terms). */
export class RenditionDetails {
  url: string;
  version?: number;
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
  /** Complete segments only, in order. */
  segments: MediaSegment[] = [];
  /** Parts of the in-progress segment (after the last complete one). */
  parts: PartialSegment[] = [];
  partTarget?: number;
  canBlockReload = false;
  partHoldBack?: number;
  holdBack?: number;
  canSkipUntil?: number;
  endList = false;
  independentSegments = false;
  playlistType?: 'EVENT' | 'VOD';
  iFramesOnly = false;
  /** Playlist-wide tags the model does not carry (EXT-X-START, EXT-X-DEFINE...), as written. */
  headerTags: string[] = [];
  preloadHint?: { type: 'PART' | 'MAP'; uri: string; relativeUri: string };

  constructor(
    url: string,
    targetDuration: number,
    mediaSequence: number,
    discontinuitySequence: number,
  ) {
    this.url = url;
    this.targetDuration = targetDuration;
    this.mediaSequence = mediaSequence;
    this.discontinuitySequence = discontinuitySequence;
  }

  get startSn(): number {
    return this.mediaSequence;
  }

  /** Msn of the last complete segment; startSn - 1 when there is none. */
  get endSn(): number {
    return this.mediaSequence + this.segments.length - 1;
  }

  get lowLatency(): boolean {
    return this.parts.length > 0 || this.segments.some((s) => s.parts.length > 0);
  }

  /**
   * `_HLS_msn` / `_HLS_part` asking for the next change. Per the LL-HLS spec the part after the
   * last listed one: the next part of the in-progress segment, else part 0 of the next segment.
   * Without parts, the next segment.
   */
  nextBlockingTarget(): { msn: number; part?: number } {
    const next = this.endSn + 1;
    if (this.parts.length > 0) return { msn: next, part: this.parts.length };
    if (this.lowLatency) return { msn: next, part: 0 };
    return { msn: next };
  }

  /** What this load brought compared with the previous one of the same rendition. */
  reloaded(previous: RenditionDetails | undefined): PlaylistChange {
    if (!previous) {
      return {
        advanced: true,
        newSegments: [...this.segments],
        partsAdvanced: this.parts.length > 0,
        restarted: false,
      };
    }
    // Everything behind the old window: a restarted stream, not a stale edge cache.
    if (this.segments.length > 0 && previous.segments.length > 0 && this.endSn < previous.startSn) {
      return {
        advanced: true,
        newSegments: [...this.segments],
        partsAdvanced: this.parts.length > 0,
        restarted: true,
      };
    }
    const newSegments = this.segments.filter((s) => s.msn > previous.endSn);
    const advanced = newSegments.length > 0 || (this.endList && !previous.endList);
    const partsAdvanced =
      newSegments.length > 0 ||
      (this.endSn === previous.endSn && this.parts.length > previous.parts.length);
    return { advanced, newSegments, partsAdvanced, restarted: false };
  }
}
