import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { MediaSegment, OriginClient, RenditionDetails } from '@hlsdump/hls-client';
import type { DumpStorage } from '@hlsdump/storage';
import { Chunklist } from './chunklist.js';
import { readChunklistEntries } from './chunklist-reader.js';
import { detached } from './detached.js';
import { DumpError } from './dump-error.js';
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
  /** Persists the dump's checkpoint; called before a chunklist rewrite so it is never behind the disk by more than one entry. */
  saveCheckpoint(): Promise<void>;
}

/**
 * Records one rendition: every complete segment from the start sequence number on, byte for byte,
 * its init segment, and its local VOD chunklist. A segment that cannot be had becomes a
 * discontinuity and a counted gap, never a silent hole.
 */
export class RenditionRecorder {
  private chunklist = new Chunklist({ targetDuration: 1, independentSegments: false });
  private readonly initFiles = new Map<string, string>();
  private lastMsn: number | undefined;
  private lastEntry: ChunklistEntry | undefined;
  private pendingDiscontinuity = false;
  /** Set when the restored chunklist on disk lacked its last entry; written with the first playlist. */
  private chunklistNeedsWrite = false;
  private gaps = 0;
  private bytes = 0;
  private lagSeconds: number | undefined;

  constructor(
    readonly index: number,
    readonly url: string,
    readonly chunklistName: string,
    private readonly context: RecorderContext,
  ) {}

  /**
   * Continues where a previous owner left off: the chunklist as it is on disk, completed by the
   * checkpoint's last entry when the owner died between saving the checkpoint and rewriting it.
   */
  async restore(checkpoint: RenditionCheckpoint): Promise<void> {
    const path = join(this.context.outputPath, this.chunklistName);
    let entries: ChunklistEntry[] = [];
    try {
      entries = readChunklistEntries(
        (await this.context.storage.readFile(path)).toString('utf8'),
        path,
      );
    } catch (error) {
      if ((error as { code?: string }).code !== 'STORAGE_NOT_FOUND') throw error;
    }
    let lastMsn = checkpoint.lastMsn;
    let completed = false;
    if (entries.length === checkpoint.entryCount - 1 && checkpoint.lastEntry) {
      entries.push(checkpoint.lastEntry);
      completed = true;
    } else if (entries.length > checkpoint.entryCount && lastMsn !== undefined) {
      // The checkpoint could not be saved for the newest entries (Redis was away): they followed
      // the checkpoint's last segment one by one unless a gap intervened, which the disk does not say.
      lastMsn += entries.length - checkpoint.entryCount;
    } else if (entries.length < checkpoint.entryCount) {
      throw new DumpError(
        'CHECKPOINT_MISMATCH',
        `${path} lists ${entries.length} segments, the checkpoint ${checkpoint.entryCount}: the output was changed by someone else`,
      );
    }
    this.chunklist = new Chunklist({ targetDuration: 1, independentSegments: false }, entries);
    this.lastMsn = lastMsn;
    this.lastEntry = entries.at(-1);
    this.gaps = checkpoint.gaps;
    this.bytes = checkpoint.bytes;
    for (const [url, file] of Object.entries(checkpoint.inits)) {
      this.initFiles.set(url, file);
      this.context.names.reserve(file, url);
    }
    for (const entry of entries) this.context.names.reserve(entry.file);
    this.context.names.reserve(this.chunklistName, this.url);
    if (completed) this.chunklistNeedsWrite = true;
  }

  /** Takes in a loaded playlist: fetches and records every complete segment not recorded yet. */
  async record(details: RenditionDetails, startMsn: number): Promise<void> {
    this.chunklist.updateHeader({
      version: details.version,
      targetDuration: details.targetDuration,
      independentSegments: details.independentSegments,
    });
    if (this.lastMsn === undefined) this.lastMsn = startMsn - 1;
    if (this.chunklistNeedsWrite) {
      this.chunklistNeedsWrite = false;
      await this.writeChunklist();
    }
    const dates = programDateTimes(details.segments);
    for (const segment of details.segments) {
      if (segment.msn <= this.lastMsn) continue;
      this.context.signal.throwIfAborted();
      const missing = segment.msn - this.lastMsn - 1;
      if (missing > 0) {
        this.markGap(this.lastMsn + 1, missing, 'no longer in the origin playlist window');
      }
      await this.recordSegment(segment, dates.get(segment.msn));
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
    const checkpoint: RenditionCheckpoint = {
      url: this.url,
      chunklist: this.chunklistName,
      entryCount: this.chunklist.size,
      inits: Object.fromEntries(this.initFiles),
      gaps: this.gaps,
      bytes: this.bytes,
    };
    if (this.lastMsn !== undefined) checkpoint.lastMsn = this.lastMsn;
    if (this.lastEntry !== undefined) checkpoint.lastEntry = this.lastEntry;
    return checkpoint;
  }

  private async recordSegment(
    segment: MediaSegment,
    programDateTime: string | undefined,
  ): Promise<void> {
    if (segment.gap) {
      await this.giveUp(segment.msn, 'the origin marks it EXT-X-GAP');
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
      await this.giveUp(segment.msn, `could not be fetched: ${(error as Error).message}`);
      return;
    }
    this.bytes += bytes;
    const entry: ChunklistEntry = {
      msn: segment.msn,
      file,
      duration: segment.duration,
      discontinuity: segment.discontinuity || this.pendingDiscontinuity,
    };
    if (segment.title) entry.title = detached(segment.title);
    if (programDateTime !== undefined) entry.programDateTime = detached(programDateTime);
    if (map !== undefined) entry.map = map;
    this.chunklist.add(entry);
    this.lastEntry = entry;
    this.lastMsn = segment.msn;
    this.pendingDiscontinuity = false;
    await this.context.saveCheckpoint();
    await this.writeChunklist();
  }

  async writeChunklist(): Promise<void> {
    const path = join(this.context.outputPath, this.chunklistName);
    const text = this.chunklist.render();
    await this.context.writeFile(path, 'chunklist', () =>
      this.context.storage.writeFile(path, text),
    );
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

  /** A segment that cannot be had: a counted gap, and the dump moves past it. */
  private async giveUp(msn: number, reason: string): Promise<void> {
    this.markGap(msn, 1, reason);
    this.lastMsn = msn;
    await this.context.saveCheckpoint();
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
  // Every ORIGIN_* code of @hlsdump/hls-client: a status, the network, or an answer it refused.
  return errorCode(error)?.startsWith('ORIGIN_') === true;
}
