import type { ChunklistEntry } from './dump-types.js';

export interface ChunklistHeader {
  version?: number;
  targetDuration: number;
  independentSegments: boolean;
}

export const ENDLIST_LINE = '#EXT-X-ENDLIST\n';

/**
 * What a rendition's local chunklist says, as text, without its segment lines: those are written
 * to disk as they come (see ChunklistFile) and never kept in memory, so a day-long dump costs the
 * same memory as a minute-long one. It knows what rendering the next entry needs (is it the first,
 * which init segment is current) and what the head says.
 */
export class Chunklist {
  private count = 0;
  private maxDuration = 0;
  private lastMap: string | undefined;

  constructor(
    private header: ChunklistHeader,
    entries: readonly ChunklistEntry[] = [],
  ) {
    for (const entry of entries) this.add(entry);
  }

  get size(): number {
    return this.count;
  }

  /** The origin may raise its target duration mid-stream; the local one never shrinks. */
  updateHeader(header: ChunklistHeader): void {
    this.header = {
      ...header,
      targetDuration: Math.max(header.targetDuration, this.header.targetDuration),
    };
  }

  /** Takes the entry in; returns its lines, to be appended after those of the entries before it. */
  add(entry: ChunklistEntry): string {
    const lines = renderSegment(entry, { first: this.count === 0, currentMap: this.lastMap });
    this.count++;
    this.maxDuration = Math.max(this.maxDuration, entry.duration);
    this.lastMap = entry.map;
    return lines;
  }

  /** The lines before the first segment (no ENDLIST: where it stands is the file's business). */
  head(): string {
    // RFC 8216 4.3.3.1: every EXTINF rounded to the nearest integer must not exceed it.
    const target = Math.max(this.header.targetDuration, Math.round(this.maxDuration));
    return renderHead(this.header, target);
  }
}

/** The playlist's header lines, in the order SPEC §4 gives. */
export function renderHead(header: ChunklistHeader, targetDuration: number): string {
  let head = '#EXTM3U\n';
  if (header.version !== undefined) head += `#EXT-X-VERSION:${header.version}\n`;
  head += `#EXT-X-TARGETDURATION:${targetDuration}\n#EXT-X-MEDIA-SEQUENCE:0\n`;
  if (header.independentSegments) head += '#EXT-X-INDEPENDENT-SEGMENTS\n';
  return head;
}

/** What rendering one entry needs to know of those before it. */
export interface SegmentContext {
  /** No entry precedes it: a discontinuity there means nothing. */
  first: boolean;
  /** The init segment the entries before it use, if any. */
  currentMap: string | undefined;
}

/**
 * One segment's lines: its tags, then its URI, each ending with a newline. Every line a segment
 * carries is rendered here, and only here.
 */
export function renderSegment(entry: ChunklistEntry, context: SegmentContext): string {
  let lines = '';
  if (entry.discontinuity && !context.first) lines += '#EXT-X-DISCONTINUITY\n';
  // EXT-X-MAP applies until the next one; repeat it after a discontinuity so each part stands alone.
  if (entry.map !== undefined && (entry.map !== context.currentMap || entry.discontinuity)) {
    lines += `#EXT-X-MAP:URI="${entry.map}"\n`;
  }
  if (entry.programDateTime !== undefined) {
    lines += `#EXT-X-PROGRAM-DATE-TIME:${entry.programDateTime}\n`;
  }
  lines += `#EXTINF:${formatDuration(entry.duration)},${entry.title ?? ''}\n${entry.file}\n`;
  return lines;
}

/** The whole chunklist in its final form: head, every segment, ENDLIST last (as OME writes it). */
export function renderFinal(head: string, segments: string): string {
  return head + segments + ENDLIST_LINE;
}

function formatDuration(seconds: number): string {
  // Enough precision for frame-exact durations without float noise like 3.9999999999.
  return Number(seconds.toFixed(6)).toString();
}
