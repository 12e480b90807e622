import type { ChunklistEntry } from './dump-types.js';

export interface ChunklistHeader {
  version?: number;
  targetDuration: number;
  independentSegments: boolean;
}

/**
 * A rendition's local chunklist in VOD form. It is rewritten after every new segment and always
 * ends with EXT-X-ENDLIST, so every snapshot on disk is a playable VOD. The rendered segment lines
 * are kept, so a rewrite costs one string join, not a re-render of every entry.
 */
export class Chunklist {
  private readonly entries: ChunklistEntry[] = [];
  private readonly lines: string[] = [];
  private maxDuration = 0;
  private lastMap: string | undefined;

  constructor(
    private header: ChunklistHeader,
    entries: readonly ChunklistEntry[] = [],
  ) {
    for (const entry of entries) this.add(entry);
  }

  get size(): number {
    return this.entries.length;
  }

  snapshot(): ChunklistEntry[] {
    return [...this.entries];
  }

  /** The origin may raise its target duration mid-stream; the local one never shrinks. */
  updateHeader(header: ChunklistHeader): void {
    this.header = {
      ...header,
      targetDuration: Math.max(header.targetDuration, this.header.targetDuration),
    };
  }

  add(entry: ChunklistEntry): void {
    this.entries.push(entry);
    this.maxDuration = Math.max(this.maxDuration, entry.duration);
    if (entry.discontinuity && this.entries.length > 1) this.lines.push('#EXT-X-DISCONTINUITY');
    // EXT-X-MAP applies until the next one; repeat it after a discontinuity so each part stands alone.
    if (entry.map !== undefined && (entry.map !== this.lastMap || entry.discontinuity)) {
      this.lines.push(`#EXT-X-MAP:URI="${entry.map}"`);
    }
    this.lastMap = entry.map;
    if (entry.programDateTime !== undefined) {
      this.lines.push(`#EXT-X-PROGRAM-DATE-TIME:${entry.programDateTime}`);
    }
    this.lines.push(`#EXTINF:${formatDuration(entry.duration)},${entry.title ?? ''}`, entry.file);
  }

  render(): string {
    const head = ['#EXTM3U'];
    if (this.header.version !== undefined) head.push(`#EXT-X-VERSION:${this.header.version}`);
    // RFC 8216 4.3.3.1: every EXTINF rounded to the nearest integer must not exceed it.
    const target = Math.max(this.header.targetDuration, Math.round(this.maxDuration));
    head.push(`#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0');
    if (this.header.independentSegments) head.push('#EXT-X-INDEPENDENT-SEGMENTS');
    return `${head.join('\n')}\n${this.lines.length > 0 ? `${this.lines.join('\n')}\n` : ''}#EXT-X-ENDLIST\n`;
  }
}

function formatDuration(seconds: number): string {
  // Enough precision for frame-exact durations without float noise like 3.9999999999.
  return Number(seconds.toFixed(6)).toString();
}
