import type { ChunklistEntry } from './dump-types.js';
import { segmentLines } from './segment-lines.js';

export interface ChunklistHeader {
  version?: number;
  targetDuration: number;
  independentSegments: boolean;
  /** An I-frame playlist (EXT-X-I-FRAMES-ONLY). */
  iFramesOnly?: boolean;
}

const ENDLIST = Buffer.from('#EXT-X-ENDLIST\n');

/**
 * A rendition's local chunklist in VOD form. It is rewritten after every new segment and always
 * ends with EXT-X-ENDLIST, so every snapshot on disk is a playable VOD. Only the rendered segment
 * lines are kept, as bytes in one buffer: a day-long dump's chunklist costs its text in memory,
 * no more (a string grown with += would keep a node and a piece per segment).
 */
export class Chunklist {
  private body = Buffer.alloc(4096);
  private bodyLength = 0;
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

  add(entry: ChunklistEntry): void {
    if (this.count === 0) this.discontinuitySequence = entry.discontinuitySequence ?? 0;
    this.appendBody(segmentLines(entry, this.previous));
    this.count++;
    this.maxDuration = Math.max(this.maxDuration, entry.duration);
    this.previous = entry;
  }

  /** The whole chunklist, as the bytes written to disk. */
  render(): Buffer {
    let head = '#EXTM3U\n';
    if (this.header.version !== undefined) head += `#EXT-X-VERSION:${this.header.version}\n`;
    // RFC 8216 4.3.3.1: every EXTINF rounded to the nearest integer must not exceed it.
    const target = Math.max(this.header.targetDuration, Math.round(this.maxDuration));
    head += `#EXT-X-TARGETDURATION:${target}\n#EXT-X-MEDIA-SEQUENCE:0\n`;
    if (this.discontinuitySequence > 0)
      head += `#EXT-X-DISCONTINUITY-SEQUENCE:${this.discontinuitySequence}\n`;
    if (this.header.independentSegments) head += '#EXT-X-INDEPENDENT-SEGMENTS\n';
    if (this.header.iFramesOnly === true) head += '#EXT-X-I-FRAMES-ONLY\n';
    return Buffer.concat([Buffer.from(head), this.body.subarray(0, this.bodyLength), ENDLIST]);
  }

  private appendBody(text: string): void {
    const needed = this.bodyLength + Buffer.byteLength(text);
    if (needed > this.body.length) {
      // Growing by a quarter keeps the slack small; the copies stay linear overall.
      const grown = Buffer.alloc(Math.max(needed, Math.ceil(this.body.length * 1.25)));
      this.body.copy(grown, 0, 0, this.bodyLength);
      this.body = grown;
    }
    this.bodyLength += this.body.write(text, this.bodyLength);
  }
}
