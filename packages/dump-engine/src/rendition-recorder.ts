import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  detached,
  isOriginNotFound,
  isOriginUnavailable,
  type ByteRange,
  type MediaSegment,
  type OriginClient,
  type RenditionDetails,
} from '@hlsdump/hls-client';
import { StorageError, type DumpStorage } from '@hlsdump/storage';
import { Chunklist } from './chunklist.js';
import { ChunklistFile } from './chunklist-file.js';
import { readChunklistEntries } from './chunklist-reader.js';
import { DumpError, isDumpError } from './dump-error.js';
import type { LocalNames, SegmentDisk } from './local-names.js';
import { programDateTimes } from './program-date-time.js';
import type {
  ChunklistEntry,
  FileKind,
  RenditionCheckpoint,
  RenditionProgress,
  WrittenFile,
} from './dump-types.js';
import { rangeNamedUrl } from './byte-range-names.js';
import { headerTagNotices } from './header-tag-notices.js';
import { localKeyLines } from './key-lines.js';
import { SmallFileCopies } from './small-file-copies.js';
import { resolveUriAttributes } from './tag-uris.js';

/** What a recorder needs from the dump it belongs to. */
export interface RecorderContext {
  storage: DumpStorage;
  client: OriginClient;
  names: LocalNames;
  outputPath: string;
  segmentAttempts: number;
  signal: AbortSignal;
  /**
   * Writes a file through storage, fenced, and lists it in the infoFile once it is complete, after
   * `listedWith` (files written before it, listed in the same infoFile write).
   */
  writeFile(
    path: string,
    kind: FileKind,
    write: () => Promise<number>,
    listedWith?: readonly WrittenFile[],
  ): Promise<void>;
  /** Writes a file like writeFile but leaves it unlisted, for a later writeFile's `listedWith`. */
  writeUnlisted(path: string, kind: FileKind, write: () => Promise<number>): Promise<WrittenFile>;
  onGap(chunklist: string, msn: number, reason: string): void;
  /** Something in the origin's playlist the copy cannot honour; repeated calls are collapsed. */
  onNotice(chunklist: string, tag: string, message: string): void;
  /**
   * Persists the dump's checkpoint; called before a chunklist rewrite so that what the disk lists
   * beyond it is either its last entry or segments following it one by one (restore).
   */
  saveCheckpoint(): Promise<void>;
}

/**
 * Records one rendition: every complete segment from the start sequence number on, byte for byte,
 * its init segment, and its local VOD chunklist. A segment that cannot be had becomes a
 * discontinuity and a counted gap, never a silent hole.
 */
export class RenditionRecorder {
  private chunklist = new Chunklist({ targetDuration: 1, independentSegments: false });
  /** Init segments and keys, shared by many segments. */
  private readonly shared = new SmallFileCopies({
    fetch: (url, range) => this.fetchSmall(url, range),
    read: (file) => this.readLocal(file),
    write: (file, bytes, kind) => {
      const path = join(this.context.outputPath, file);
      return this.context.writeFile(path, kind, () =>
        this.context.storage.writeFile(path, bytes).then(() => bytes.length),
      );
    },
    nameFor: (url, range) =>
      this.context.names.nameFor(rangeNamedUrl(url, range), `r${this.index}`),
  });
  private chunklistFile: ChunklistFile;
  /** What naming a segment asks of the output folder. */
  private readonly disk: SegmentDisk = {
    exists: (name) => this.context.storage.exists(join(this.context.outputPath, name)),
    list: () => this.context.storage.list(this.context.outputPath),
  };
  private readonly prefix: string;
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
  ) {
    this.prefix = `r${index}`;
    this.chunklistFile = new ChunklistFile(
      context.storage,
      join(context.outputPath, chunklistName),
    );
  }

  /**
   * Continues where a previous owner left off: the chunklist as it is on disk, completed by the
   * checkpoint's last entry when the owner died between saving the checkpoint and appending it.
   * The first write rewrites the file from these entries, which also drops whatever half an append
   * the previous owner left at its end. Returns the entries it continues from.
   */
  async restore(checkpoint: RenditionCheckpoint): Promise<readonly ChunklistEntry[]> {
    const path = join(this.context.outputPath, this.chunklistName);
    let entries: ChunklistEntry[] = [];
    try {
      entries = readChunklistEntries(
        (await this.context.storage.readFile(path)).toString('utf8'),
        path,
      );
    } catch (error) {
      if (!(error instanceof StorageError && error.code === 'STORAGE_NOT_FOUND')) throw error;
    }
    let lastMsn = checkpoint.lastMsn;
    let bytes = checkpoint.bytes;
    if (entries.length === checkpoint.entryCount - 1 && checkpoint.lastEntry) {
      entries.push(checkpoint.lastEntry);
    } else if (entries.length > checkpoint.entryCount && lastMsn !== undefined) {
      // The checkpoint was not saved for the newest entries (they only followed it, or Redis was
      // away): they followed the checkpoint's last segment one by one, since a gap is always saved
      // (or Redis was away then too, which the disk does not say).
      lastMsn += entries.length - checkpoint.entryCount;
      bytes += await this.bytesOf(entries.slice(checkpoint.entryCount));
    } else if (entries.length < checkpoint.entryCount) {
      throw new DumpError(
        'CHECKPOINT_MISMATCH',
        `${path} lists ${entries.length} segments, the checkpoint ${checkpoint.entryCount}: the output was changed by someone else`,
      );
    }
    this.chunklist = new Chunklist({ targetDuration: 1, independentSegments: false });
    let lines = '';
    for (const entry of entries) lines += this.chunklist.add(entry);
    this.chunklistFile = new ChunklistFile(
      this.context.storage,
      join(this.context.outputPath, this.chunklistName),
      lines,
    );
    this.lastMsn = lastMsn;
    this.lastEntry = entries.at(-1);
    this.gaps = checkpoint.gaps;
    this.bytes = bytes;
    for (const [identity, file] of Object.entries(checkpoint.inits)) {
      this.shared.restore(identity, file);
      this.context.names.reserve(file);
    }
    // The segments listed are on disk: segmentNameFor finds them taken there.
    this.context.names.reserve(this.chunklistName, this.url);
    this.chunklistNeedsWrite = true;
    return entries;
  }

  /** What the segment files of these entries hold on disk (a gap has none). */
  private async bytesOf(entries: ChunklistEntry[]): Promise<number> {
    let bytes = 0;
    for (const entry of entries) {
      if (entry.gap) continue;
      try {
        bytes += await this.context.storage.size(join(this.context.outputPath, entry.file));
      } catch (error) {
        if (!(error instanceof StorageError && error.code === 'STORAGE_NOT_FOUND')) throw error;
      }
    }
    return bytes;
  }

  /** Takes in a loaded playlist: fetches and records every complete segment not recorded yet. */
  async record(details: RenditionDetails, startMsn: number): Promise<void> {
    this.chunklist.updateHeader({
      version: details.version,
      targetDuration: details.targetDuration,
      independentSegments: details.independentSegments,
      iFramesOnly: details.iFramesOnly,
    });
    for (const { tag, message } of headerTagNotices(details.headerTags)) {
      this.context.onNotice(this.chunklistName, tag, message);
    }
    if (this.lastMsn === undefined) this.lastMsn = startMsn - 1;
    if (this.chunklistNeedsWrite) {
      this.chunklistNeedsWrite = false;
      await this.writeChunklist();
    }
    const dates = programDateTimes(details.segments, this.lastMsn + 1);
    for (const segment of details.segments) {
      if (segment.msn <= this.lastMsn) continue;
      this.context.signal.throwIfAborted();
      const missing = segment.msn - this.lastMsn - 1;
      if (missing > 0) {
        this.markGap(this.lastMsn + 1, missing, 'no longer in the origin playlist window');
      }
      await this.recordSegment(segment, dates.get(segment.msn), details.url);
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
      inits: this.shared.entries(),
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
    playlistUrl: string,
  ): Promise<void> {
    let map: string | undefined;
    let keys: string[];
    let file: string;
    let written: WrittenFile | undefined;
    try {
      if (segment.map !== undefined) {
        map = await this.shared.localFile(segment.map.uri, mapRange(segment.map.byterange), 'init');
      }
      const localKeys = await localKeyLines(segment.keyLines, playlistUrl, (url) =>
        this.shared.localFile(url, undefined, 'key'),
      );
      for (const { tag, message } of localKeys.notices) {
        this.context.onNotice(this.chunklistName, tag, message);
      }
      keys = localKeys.lines;
      file = await this.context.names.segmentNameFor(
        rangeNamedUrl(segment.uri, segment.byterange),
        this.prefix,
        this.disk,
      );
      try {
        // The origin says there is no media here: listed as a gap, nothing to fetch.
        if (!segment.gap) written = await this.download(segment.uri, file, segment.byterange);
      } finally {
        this.context.names.written(file);
      }
    } catch (error) {
      if (this.context.signal.aborted || !isUnavailable(error)) throw error;
      await this.giveUp(segment.msn, `could not be fetched: ${(error as Error).message}`);
      return;
    }
    this.bytes += written?.bytes ?? 0;
    const entry: ChunklistEntry = {
      msn: segment.msn,
      file,
      duration: segment.duration,
      discontinuity: segment.discontinuity || this.pendingDiscontinuity,
    };
    if (segment.title) entry.title = detached(segment.title);
    if (programDateTime !== undefined) entry.programDateTime = detached(programDateTime);
    if (map !== undefined) entry.map = map;
    if (keys.length > 0) entry.keys = keys;
    if (segment.tagLines.length > 0) {
      entry.tags = segment.tagLines.map((line) =>
        detached(resolveUriAttributes(line, playlistUrl)),
      );
    }
    if (segment.gap) entry.gap = true;
    if (segment.discontinuitySequence > 0)
      entry.discontinuitySequence = segment.discontinuitySequence;
    const lines = this.chunklist.add(entry);
    this.lastEntry = entry;
    this.lastMsn = segment.msn;
    this.pendingDiscontinuity = false;
    await this.context.saveCheckpoint();
    // The segment's Item goes into the infoFile with the chunklist's, in one write instead of two
    // each segment; a new owner lists what a dead one left unlisted (HlsDump.listUnlisted).
    await this.context.writeFile(
      this.chunklistFile.path,
      'chunklist',
      () => this.chunklistFile.append(this.chunklist.head(), lines),
      written ? [written] : [],
    );
  }

  /** Writes the whole chunklist as it stands (the dump's first files, a resumed dump's first write). */
  async writeChunklist(): Promise<void> {
    await this.context.writeFile(this.chunklistFile.path, 'chunklist', () =>
      this.chunklistFile.rewrite(this.chunklist.head()),
    );
  }

  /** The dump ended: the chunklist takes its final form, ENDLIST last. */
  async finishChunklist(): Promise<void> {
    await this.context.writeFile(this.chunklistFile.path, 'chunklist', () =>
      this.chunklistFile.finish(this.chunklist.head()),
    );
  }

  /** Releases the chunklist's file, left as it is on disk. */
  async close(): Promise<void> {
    await this.chunklistFile.close();
  }

  private async download(
    url: string,
    file: string,
    range: ByteRange | undefined,
  ): Promise<WrittenFile> {
    const path = join(this.context.outputPath, file);
    return this.withSegmentAttempts(() =>
      this.context.writeUnlisted(path, 'segment', () =>
        this.context.client.download(
          url,
          (body) => this.context.storage.writeStream(path, body, this.context.signal),
          { signal: this.context.signal, ...(range ? { range } : {}) },
        ),
      ),
    );
  }

  /** An init segment or a key, into memory: they are small, and compared before being written. */
  private fetchSmall(url: string, range: ByteRange | undefined): Promise<Buffer> {
    return this.withSegmentAttempts(() =>
      this.context.client.download(url, (body) => readSmallBody(body, url), {
        signal: this.context.signal,
        ...(range ? { range } : {}),
      }),
    );
  }

  private async readLocal(file: string): Promise<Buffer | undefined> {
    try {
      return await this.context.storage.readFile(join(this.context.outputPath, file));
    } catch {
      return undefined;
    }
  }

  private async withSegmentAttempts<T>(attemptOnce: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await attemptOnce();
      } catch (error) {
        // The client already retried 5xx and network errors; a 404 may be a segment the origin
        // has not finished publishing, so it gets a few more chances before it is a gap.
        if (attempt >= this.context.segmentAttempts || !isOriginNotFound(error)) throw error;
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

/** Init segments and keys are small; anything past this is not one. */
const SMALL_FILE_LIMIT = 16 * 1024 * 1024;

async function readSmallBody(body: AsyncIterable<Buffer | string>, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    length += buffer.length;
    if (length > SMALL_FILE_LIMIT) {
      throw new DumpError(
        'ORIGIN_FILE_TOO_LARGE',
        `${url} is over ${SMALL_FILE_LIMIT} bytes: not an init segment or a key`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** EXT-X-MAP's BYTERANGE has no implied offset: absent means 0. */
function mapRange(range: ByteRange | undefined): ByteRange | undefined {
  return range === undefined ? undefined : { length: range.length, offset: range.offset ?? 0 };
}

/** Origin-side failures that cost one segment; storage failures and the like end the dump. */
function isUnavailable(error: unknown): boolean {
  // An init segment or key past the small-file limit is the origin's fault for that one segment.
  return isOriginUnavailable(error) || isDumpError(error, 'ORIGIN_FILE_TOO_LARGE');
}
