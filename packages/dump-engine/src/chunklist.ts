import type { ChunklistEntry } from './dump-types.js';
import { segmentLines } from './segment-lines.js';

export interface ChunklistHeader {
  version?: number;
  targetDuration: number;
  independentSegments: boolean;
  /** An I-frame playlist (EXT-X-I-FRAMES-ONLY). */
  iFramesOnly?: boolean;
}

export const ENDLIST_LINE = '#EXT-X-ENDLIST\n';

/**
 * What a rendition's local chunklist says, as text, without its segment lines: those are written
 * to disk as they come (see ChunklistFile) and never kept in memory, so a day-long dump costs the
 * same memory as a minute-long one. It knows what rendering the next entry needs (the entry
 * before it: keys and init segment in effect) and what the head says.
 */
export class Chunklist {
  private count = 0;
  private maxDuration = 0;
  private previous: ChunklistEntry | undefined;
  private discontinuitySequence = 0;

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
    if (this.count === 0) this.discontinuitySequence = entry.discontinuitySequence ?? 0;
    const lines = segmentLines(entry, this.previous);
    this.count++;
    this.maxDuration = Math.max(this.maxDuration, entry.duration);
    this.previous = entry;
    return lines;
  }

  /** The lines before the first segment (no ENDLIST: where it stands is the file's business). */
  head(): string {
    // RFC 8216 4.3.3.1: every EXTINF rounded to the nearest integer must not exceed it.
    const target = Math.max(this.header.targetDuration, Math.round(this.maxDuration));
    return renderHead(this.header, target, this.discontinuitySequence);
  }
}

/** The playlist's header lines, in the order docs/api.md#chunklist gives. */
export function renderHead(
  header: ChunklistHeader,
  targetDuration: number,
  discontinuitySequence = 0,
): string {
  let head = '#EXTM3U\n';
  if (header.version !== undefined) head += `#EXT-X-VERSION:${header.version}\n`;
  head += `#EXT-X-TARGETDURATION:${targetDuration}\n#EXT-X-MEDIA-SEQUENCE:0\n`;
  if (discontinuitySequence > 0) head += `#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}\n`;
  if (header.independentSegments) head += '#EXT-X-INDEPENDENT-SEGMENTS\n';
  if (header.iFramesOnly === true) head += '#EXT-X-I-FRAMES-ONLY\n';
  return head;
}

/** The whole chunklist in its final form: head, every segment, ENDLIST last (as OME writes it). */
export function renderFinal(head: string, segments: string): string {
  return head + segments + ENDLIST_LINE;
}
