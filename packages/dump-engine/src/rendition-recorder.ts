import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { MediaSegment, OriginClient, RenditionDetails } from '@hlsdump/hls-client';
import type { DumpStorage } from '@hlsdump/storage';
import { Chunklist } from './chunklist.js';
import type { LocalNames } from './local-names.js';
import { programDateTimes } from './program-date-time.js';
import type { ChunklistEntry, RenditionCheckpoint, RenditionProgress } from './dump-types.js';

/** What a recorder needs from the dump it belongs to. */
export interface RecorderContext {
  storage: DumpStorage;
  client: OriginClient;
  names: LocalNames;
  outputPath: string;
  segmentAttempts: number;
  signal: AbortSignal;
  /** Writes a file through storage, fenced, and lists it in the infoFile once it is complete. */
  writeFile(
    path: string,
    kind: 'init' | 'segment' | 'chunklist',
    write: () => Promise<number>,
  ): Promise<void>;
  onGap(chunklist: string, msn: number, reason: string): void;
}

/**
 * Records one rendition: every complete segment from the start sequence number on, byte for byte,
 * its init segment, and its local VOD chunklist. A segment that cannot be had becomes a
 * discontinuity and a counted gap, never a silent hole.
 */
export class RenditionRecorder {
  private readonly chunklist: Chunklist;
  private readonly initFiles = new Map<string, string>();
  private lastMsn: number | undefined;
  private pendingDiscontinuity = false;
  private gaps: number;
  private bytes: number;
  private lagSeconds: number | undefined;

  constructor(
    readonly index: number,
    readonly url: string,
    readonly chunklistName: string,
    private readonly context: RecorderContext,
    resume?: RenditionCheckpoint,
  ) {
    this.chunklist = new Chunklist({ targetDuration: 1, independentSegments: false }, resume?.entries);
    this.lastMsn = resume?.lastMsn;
    this.gaps = resume?.gaps ?? 0;
    this.bytes = resume?.bytes ?? 0;
    for (const entry of resume?.entries ?? []) {
      if (entry.map !== undefined) this.initFiles.set(entry.map, entry.map);
    }
    // A resumed dump continues after a break in fetching: mark it, players must not assume continuity.
    this.pendingDiscontinuity = resume !== undefined && resume.entries.length > 0;
  }

  /** Takes in a loaded playlist: fetches and records every complete segment not recorded yet. */
  async record(details: RenditionDetails, startMsn: number): Promise<void> {
    this.chunklist.updateHeader({
      version: details.version,
      targetDuration: details.targetDuration,
      independentSegments: details.independentSegments,
    });
    if (this.lastMsn === undefined) this.lastMsn = startMsn - 1;
    const dates = programDateTimes(details.segments);
    for (const segment of details.segments) {
      if (segment.msn <= this.lastMsn) continue;
      this.context.signal.throwIfAborted();
      const missing = segment.msn - this.lastMsn - 1;
      if (missing > 0) {
        this.markGap(this.lastMsn + 1, missing, 'no longer in the origin playlist window');
      }
      await this.recordSegment(segment, dates.get(segment.msn));
      this.lastMsn = segment.msn;
    }
    this.lagSeconds = details.segments
      .filter((segment) => segment.msn > (this.lastMsn ?? -1))
      .reduce((sum, segment) => sum + segment.duration, 0);
  }

  progress(): RenditionProgress {
    return {
      chunklist: this.chunklistName,
      lastMsn: this.lastMsn,
      segments: this.chunklist.size,
      bytes: this.bytes,
      gaps: this.gaps,
      lagSeconds: this.lagSeconds,
    };
  }

  checkpoint(): RenditionCheckpoint {
    return {
      url: this.url,
      chunklist: this.chunklistName,
      entries: this.chunklist.snapshot(),
      lastMsn: this.lastMsn,
      gaps: this.gaps,
      bytes: this.bytes,
    };
  }

  /** Local file names this recorder's files use (for a resumed dump's name reservations). */
  fileNames(): string[] {
    return [this.chunklistName, ...this.chunklist.snapshot().flatMap((e) => (e.map ? [e.file, e.map] : [e.file]))];
  }

  private async recordSegment(segment: MediaSegment, programDateTime: string | undefined): Promise<void> {
    if (segment.gap) {
      this.markGap(segment.msn, 1, 'the origin marks it EXT-X-GAP');
      return;
    }
    let map: string | undefined;
    let file: string;
    let bytes: number;
    try {
      if (segment.map !== undefined) map = await this.ensureInit(segment.map.uri);
      file = this.context.names.nameFor(segment.uri, `r${this.index}`);
      bytes = await this.download(segment.uri, file, 'segment');
    } catch (error) {
      if (this.context.signal.aborted || !isUnavailable(error)) throw error;
      this.markGap(segment.msn, 1, `could not be fetched: ${(error as Error).message}`);
      return;
    }
    this.bytes += bytes;
    const entry: ChunklistEntry = {
      msn: segment.msn,
      file,
      duration: segment.duration,
      discontinuity: segment.discontinuity || this.pendingDiscontinuity,
    };
    if (segment.title) entry.title = segment.title;
    if (programDateTime !== undefined) entry.programDateTime = programDateTime;
    if (map !== undefined) entry.map = map;
    this.chunklist.add(entry);
    this.pendingDiscontinuity = false;
    await this.writeChunklist();
  }

  async writeChunklist(): Promise<void> {
    const path = join(this.context.outputPath, this.chunklistName);
    const text = this.chunklist.render();
    await this.context.writeFile(path, 'chunklist', () => this.context.storage.writeFile(path, text));
  }

  private async ensureInit(url: string): Promise<string> {
    const known = this.initFiles.get(url);
    if (known !== undefined) return known;
    const file = this.context.names.stableNameFor(url, `r${this.index}`);
    await this.download(url, file, 'init');
    this.initFiles.set(url, file);
    return file;
  }

  private async download(url: string, file: string, kind: 'init' | 'segment'): Promise<number> {
    const path = join(this.context.outputPath, file);
    let bytes = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.context.writeFile(path, kind, async () => {
          bytes = await this.context.client.download(
            url,
            (body) => this.context.storage.writeStream(path, body, this.context.signal),
            { signal: this.context.signal },
          );
          return bytes;
        });
        return bytes;
      } catch (error) {
        // The client already retried 5xx and network errors; a 404 may be a segment the origin
        // has not finished publishing, so it gets a few more chances before it is a gap.
        if (attempt >= this.context.segmentAttempts || !isNotFound(error)) throw error;
        await delay(250 * attempt, undefined, { signal: this.context.signal });
      }
    }
  }

  private markGap(firstMsn: number, count: number, reason: string): void {
    this.gaps += count;
    this.pendingDiscontinuity = true;
    for (let msn = firstMsn; msn < firstMsn + count; msn++) {
      this.context.onGap(this.chunklistName, msn, reason);
    }
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isNotFound(error: unknown): boolean {
  const status = (error as { status?: unknown } | undefined)?.status;
  return errorCode(error) === 'ORIGIN_HTTP_STATUS' && (status === 404 || status === 410);
}

/** Origin-side failures that cost one segment; storage failures and the like end the dump. */
function isUnavailable(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ORIGIN_HTTP_STATUS' || code === 'ORIGIN_NETWORK' || code === 'ORIGIN_TIMEOUT';
}
