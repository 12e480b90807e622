import { basename, dirname, join, resolve } from 'node:path';
import {
  DEFAULT_RETRY_POLICY,
  OriginHttpError,
  RenditionLoader,
  StreamGoneError,
  isMasterPlaylist,
  parseMasterPlaylist,
  rewritePlaylistUris,
  type RenditionDetails,
} from '@hlsdump/hls-client';
import { InfoFileWriter } from '@hlsdump/info-file';
import { DumpError, describeFailure, isDumpError } from './dump-error.js';
import type {
  ChunklistEntry,
  DumpCheckpoint,
  DumpDependencies,
  EngineEvent,
  DumpFailure,
  DumpLimits,
  DumpProgress,
  DumpRequest,
  EngineStatus,
  FileKind,
  WrittenFile,
} from './dump-types.js';
import { DurationLimit } from './duration-limit.js';
import { LocalNames, sanitizeFileName } from './local-names.js';
import { masterOriginNotices } from './master-origin-notices.js';
import { oldestCommonSegment, parseStartFrom, segmentAtTime } from './start-position.js';
import { RenditionRecorder, type RecorderContext } from './rendition-recorder.js';

/** Distinct notices kept in a dump's status. */
const MAX_NOTICES = 50;

export const DEFAULT_DUMP_LIMITS: DumpLimits = {
  goneAfterMs: 30_000,
  unreachableAfterMs: 60_000,
  retry: DEFAULT_RETRY_POLICY,
  segmentAttempts: 3,
};

interface MasterCopy {
  name: string;
  url: string;
  text: string;
}

/** A file complete while the dump finishes, listed by the infoFile's final rewrite. */
interface LastItem extends WrittenFile {
  time: Date;
}

interface Rendition {
  url: string;
  recorder: RenditionRecorder;
  updates: AsyncGenerator<RenditionDetails>;
  /** The playlist as loaded at start, recorded first. */
  first?: RenditionDetails;
}

/**
 * One dump: the named master playlists of a live stream, every rendition they reference, and the
 * infoFile, from the live edge until it is stopped, the origin ends the stream, or it fails.
 */
export class HlsDump {
  readonly done: Promise<DumpProgress>;
  private settle!: (progress: DumpProgress) => void;
  private readonly request: DumpRequest;
  private readonly limits: DumpLimits;
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  private readonly abort = new AbortController();
  private readonly names = new LocalNames();
  private renditions: Rendition[] = [];
  /** Fetched at start, written when the dump runs (none for a resumed dump). */
  private mastersToWrite: MasterCopy[] = [];
  private infoFile: InfoFileWriter | undefined;
  private status: EngineStatus = 'Starting';
  private failure: DumpFailure | undefined;
  private ending: 'stop' | 'suspend' | undefined;
  private endReason: string | undefined;
  private filesWritten = 0;
  private bytesWritten = 0;
  /** What could not be honoured, one line per rendition and tag and reason. */
  private readonly notices = new Set<string>();
  /** `maxDurationSeconds`, counted as the playlists advance. */
  private readonly durationLimit: DurationLimit | undefined;
  /** The segment a `from` time asked for, found before anything is written. */
  private startAtMsn: number | undefined;
  /** While the dump finishes: the files the infoFile's final rewrite lists (see finish). */
  private lastItems: LastItem[] | undefined;
  /** The checkpoint save in flight, and the one queued after it (see saveCheckpoint). */
  private checkpointSaving: Promise<void> | undefined;
  private checkpointQueued: Promise<void> | undefined;

  constructor(
    request: DumpRequest,
    private readonly deps: DumpDependencies,
  ) {
    this.request = deps.resumeFrom?.request ?? request;
    this.limits = { ...DEFAULT_DUMP_LIMITS, ...deps.limits };
    this.done = new Promise((resolveDone) => (this.settle = resolveDone));
    if (this.request.maxDurationSeconds !== undefined)
      this.durationLimit = new DurationLimit(
        this.request.maxDurationSeconds,
        deps.resumeFrom?.durationLimit,
      );
  }

  on(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Reads the stream at the origin, creates outputPath and the infoFile (Status Running) and starts
   * recording. Resolves once the dump runs; rejects with a DumpError when it cannot start.
   */
  async start(signal?: AbortSignal): Promise<void> {
    const onAbort = () => this.abort.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.prepare();
    } catch (error) {
      this.abort.abort();
      await Promise.allSettled(this.renditions.map((r) => r.updates.return(undefined)));
      const failure = describeFailure(error);
      // An infoFile already created says why the dump never ran, rather than Running forever.
      await this.infoFile?.finish('Error', failure.message).catch(() => this.infoFile?.close());
      this.setStatus('Error', failure);
      this.settle(this.progress());
      throw DumpError.from(error);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    this.setStatus('Running');
    // The first checkpoint is on its way before start resolves and saved before anything more is
    // written, but not waited for here: the caller's acknowledgement (markRunning) goes out behind
    // it on the same connection, one round trip for both.
    void this.run(this.saveCheckpoint());
  }

  /** Ends the dump: in-flight fetches are aborted, chunklists stay final, the infoFile says Completed. */
  async stop(): Promise<DumpProgress> {
    if (this.status === 'Running') {
      this.ending ??= 'stop';
      this.abort.abort(new DumpError('DUMP_STOPPED', 'The dump was stopped'));
    }
    return this.done;
  }

  /** Hands the dump off: fetching stops, the files and the infoFile stay Running for the next owner. */
  async suspend(): Promise<DumpCheckpoint> {
    if (this.status === 'Running') {
      this.ending ??= 'suspend';
      this.abort.abort(new DumpError('DUMP_SUSPENDED', 'The dump was handed off'));
    }
    await this.done;
    return this.checkpoint();
  }

  checkpoint(): DumpCheckpoint {
    return {
      version: 2,
      request: this.request,
      renditions: this.renditions.map((r) => r.recorder.checkpoint()),
      ...(this.durationLimit?.checkpoint() && {
        durationLimit: this.durationLimit.checkpoint(),
      }),
    };
  }

  progress(): DumpProgress {
    const renditions = this.renditions.map((r) => r.recorder.progress());
    const progress: DumpProgress = {
      status: this.status,
      renditions,
      filesWritten: this.filesWritten,
      bytesWritten: this.bytesWritten,
      gaps: renditions.reduce((sum, r) => sum + r.gaps, 0),
      notices: [...this.notices],
    };
    if (this.failure) progress.error = this.failure;
    if (this.endReason !== undefined) progress.endReason = this.endReason;
    return progress;
  }

  private async prepare(): Promise<void> {
    const { outputPath, infoFile } = this.request;
    const resume = this.deps.resumeFrom;
    const masters = resume ? [] : await this.loadMasters();
    const renditionUrls = resume ? resume.renditions.map((r) => r.url) : renditionsOf(masters);
    if (!resume) await this.findStartTime(renditionUrls);

    // Both folders at once, the infoFile's only when it is not outputPath itself.
    const folders = new Set([resolve(outputPath)]);
    if (infoFile !== undefined) folders.add(resolve(dirname(infoFile)));
    await this.fenced(() =>
      Promise.all([...folders].map((folder) => this.deps.storage.ensureDir(folder))),
    );
    // A previous owner killed mid-write left its temporary files; they are never a dump file.
    if (resume) await this.fenced(() => this.removeTemporaries());
    if (resume) await this.retellMasterNotices();
    if (infoFile !== undefined) {
      this.infoFile = resume
        ? await InfoFileWriter.resume(this.deps.storage, infoFile, { now: this.deps.now })
        : await InfoFileWriter.create(
            this.deps.storage,
            infoFile,
            { stream: this.request.streamName, userData: this.request.userData },
            { now: this.deps.now },
          );
      if (resolve(dirname(infoFile)) === resolve(outputPath))
        this.names.reserve(basename(infoFile));
    }
    for (const master of masters) this.names.stableNameFor(master.url, 'm');

    const context = this.recorderContext();
    this.renditions = renditionUrls.map((url, index) => {
      const chunklist =
        resume?.renditions[index]?.chunklist ?? this.names.stableNameFor(url, `r${index}`);
      return {
        url,
        recorder: new RenditionRecorder(index, url, chunklist, context),
        updates: new RenditionLoader(this.deps.client, url, {
          signal: this.abort.signal,
          limits: this.limits,
          retry: this.limits.retry,
        }).updates(),
      };
    });
    if (resume) {
      const entries = (
        await Promise.all(
          this.renditions.map((r, index) => r.recorder.restore(resume.renditions[index]!)),
        )
      ).flat();
      await this.reclaimUnlisted(new Set(entries.map((entry) => entry.file)));
      await this.listUnlisted(entries);
    }
    await Promise.all(this.renditions.map((r) => this.loadFirst(r)));

    this.mastersToWrite = masters;
  }

  /**
   * A new dump's first files: each rendition's chunklist (empty, valid), then the masters that
   * point at them, so a master on disk never names a missing file. Written once the dump runs: a
   * start is acknowledged as soon as outputPath and the infoFile exist.
   */
  private async writeFirstFiles(): Promise<void> {
    const masters = this.mastersToWrite;
    this.mastersToWrite = [];
    if (masters.length === 0) return;
    for (const rendition of this.renditions) await rendition.recorder.writeChunklist();
    for (const master of masters) await this.writeMaster(master);
  }

  private async loadMasters(): Promise<MasterCopy[]> {
    const base = this.request.originBaseUrl;
    return Promise.all(
      this.request.playlists.map(async (name) => {
        const url = new URL(name, base).href;
        try {
          const { text, url: finalUrl } = await this.deps.client.getText(url, {
            signal: this.abort.signal,
            retry: this.limits.retry,
          });
          return { name: sanitizeFileName(name), url: finalUrl, text };
        } catch (error) {
          if (error instanceof OriginHttpError && error.status === 404) {
            throw new DumpError('STREAM_NOT_FOUND', `The origin has no playlist at ${url} (404)`);
          }
          throw DumpError.from(error);
        }
      }),
    );
  }

  private async loadFirst(rendition: Rendition): Promise<void> {
    const next = await rendition.updates.next();
    if (next.done) throw new DumpError('PLAYLIST_INVALID', `No playlist at ${rendition.url}`);
    rendition.first = next.value;
  }

  private async writeMaster(master: MasterCopy): Promise<void> {
    const path = join(this.request.outputPath, master.name);
    if (!isMasterPlaylist(master.text)) return; // a media playlist named as the master: its chunklist is the copy
    const local = new Map(this.renditions.map((r) => [r.url, r.recorder.chunklistName]));
    const text = rewritePlaylistUris(master.text, master.url, (uri) => local.get(uri) ?? uri);
    await this.writeFile(path, 'master', () => this.deps.storage.writeFile(path, text));
    this.tellMasterNotices(master.name, text);
  }

  /** A resumed dump's masters are on disk already: what they keep at the origin is told again. */
  private async retellMasterNotices(): Promise<void> {
    for (const name of this.request.playlists.map(sanitizeFileName)) {
      const path = join(this.request.outputPath, name);
      if (!(await this.deps.storage.exists(path))) continue;
      const text = (await this.deps.storage.readFile(path)).toString('utf8');
      if (isMasterPlaylist(text)) this.tellMasterNotices(name, text);
    }
  }

  private tellMasterNotices(name: string, copiedMaster: string): void {
    for (const { tag, message } of masterOriginNotices(copiedMaster))
      this.onNotice(name, tag, message);
  }

  private async run(firstCheckpoint: Promise<void>): Promise<void> {
    const startMsn = this.startMsnOf(this.renditions.flatMap((r) => (r.first ? [r.first] : [])));
    let fatal: unknown;
    const firstFiles = firstCheckpoint
      .then(() => this.deps.beforeRecording?.(this.abort.signal))
      .then(() => this.writeFirstFiles())
      .catch((error: unknown) => {
        fatal = error;
        this.abort.abort(error);
        throw error;
      });
    // Every recorder must have settled before the dump is finalized: none may still be writing.
    const outcomes = await Promise.allSettled([
      firstFiles,
      ...this.renditions.map((rendition) =>
        firstFiles
          .then(() => this.follow(rendition, startMsn))
          .catch((error: unknown) => {
            if (!this.abort.signal.aborted) {
              fatal = error;
              this.abort.abort(error);
            }
            throw error;
          }),
      ),
    ]);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed === undefined) {
      await this.finish(
        'Completed',
        undefined,
        this.endReason ?? 'the origin ended the stream (EXT-X-ENDLIST)',
      );
    } else if (isDumpError(fatal, 'DUMP_FENCED') || this.ending === 'suspend') {
      await this.release(fatal);
    } else if (this.ending === 'stop' && fatal === undefined) {
      await this.finish('Completed', undefined, 'stopped');
    } else {
      const failure = describeFailure(fatal ?? failed.reason);
      await this.finish('Error', failure, failure.message);
    }
  }

  private async follow(rendition: Rendition, startMsn: number): Promise<void> {
    if (rendition.first && (await this.recordWithinLimit(rendition, rendition.first, startMsn))) {
      await rendition.updates.return(undefined);
      return;
    }
    try {
      for await (const details of rendition.updates) {
        if (await this.recordWithinLimit(rendition, details, startMsn)) return;
      }
    } catch (error) {
      // The stream's playlist answered 404 past the limit: the stream ended, the dump is complete.
      if (error instanceof StreamGoneError && !this.abort.signal.aborted) {
        this.endReason = `the stream is gone: its playlist answered 404 for over ${this.limits.goneAfterMs} ms (${rendition.url})`;
        return;
      }
      throw error;
    }
  }

  /**
   * A `from` time is looked up before outputPath or the infoFile exist: a time the origin does
   * not hold refuses the start and leaves nothing behind.
   */
  private async findStartTime(renditionUrls: string[]): Promise<void> {
    const from = parseStartFrom(this.request.from);
    if (from === undefined)
      throw new DumpError('FROM_INVALID', `from must be live, window or an ISO 8601 time`);
    if (from.kind !== 'time') return;
    this.startAtMsn = await segmentAtTime(this.deps.client, renditionUrls, from.at, {
      signal: this.abort.signal,
      retry: this.limits.retry,
    });
  }

  /**
   * Segments a killed owner renamed into outputPath but never listed (it died in between) are
   * written again under the same name, not kept beside a renamed copy. outputPath held nothing
   * when the dump started, so every file in it is this dump's.
   */
  private async reclaimUnlisted(listed: ReadonlySet<string>): Promise<void> {
    const files = await this.deps.storage.list(this.request.outputPath);
    this.names.reclaim(files.filter((file) => !listed.has(file)));
  }

  /**
   * A segment's Item goes into the infoFile after its chunklist append (with the chunklist's Item):
   * an owner that died between the two left segments its chunklists list and its infoFile does not.
   * They are listed now, so the infoFile names every file of the dump.
   */
  private async listUnlisted(entries: readonly ChunklistEntry[]): Promise<void> {
    const infoFile = this.infoFile;
    if (!infoFile) return;
    const segments = entries
      .filter((entry) => !entry.gap)
      .map((entry) => join(this.request.outputPath, entry.file));
    const unlisted: WrittenFile[] = [];
    for (const file of infoFile.unlisted(segments)) {
      unlisted.push({ file, kind: 'segment', bytes: await this.deps.storage.size(file) });
    }
    if (unlisted.length > 0) await this.list(unlisted);
  }

  /** Where a new dump starts on every rendition (a resumed one goes on from its checkpoint). */
  private startMsnOf(firsts: RenditionDetails[]): number {
    const startMsn =
      this.startAtMsn ??
      (parseStartFrom(this.request.from)?.kind === 'window'
        ? oldestCommonSegment(firsts)
        : liveEdge(firsts));
    this.durationLimit?.begin(startMsn);
    return startMsn;
  }

  /** Records a playlist load up to the duration limit; true once the rendition has reached it. */
  private async recordWithinLimit(
    rendition: Rendition,
    details: RenditionDetails,
    startMsn: number,
  ): Promise<boolean> {
    const limit = this.durationLimit;
    limit?.observe(details.segments, details.targetDuration);
    const stopMsn = limit?.stopMsn;
    if (limit === undefined || stopMsn === undefined) {
      await rendition.recorder.record(details, startMsn);
      return false;
    }
    await rendition.recorder.record(segmentsBefore(details, stopMsn), startMsn);
    if (details.endSn < stopMsn - 1) return false;
    this.endReason ??= `maxDurationSeconds reached: ${Math.round(limit.seconds * 1000) / 1000} s of media (${limit.maxSeconds} s asked)`;
    return true;
  }

  private async finish(
    status: 'Completed' | 'Error',
    failure: DumpFailure | undefined,
    reason: string,
  ): Promise<void> {
    this.endReason = reason;
    // Whatever a former owner that came back too late left behind goes before the end is told.
    // A dump that never changed hands had no former owner: its end lists no folder (the
    // infoFile's may hold every dump's infoFile, thousands of names, at each stop).
    if (this.deps.resumeFrom)
      await this.fenced(() => this.removeTemporaries()).catch(() => undefined);
    // The final chunklists' Items go into the infoFile's final rewrite, not each patched in first.
    const infoFile = this.infoFile;
    const last: LastItem[] = [];
    if (infoFile) this.lastItems = last;
    try {
      await this.finishChunklists();
    } finally {
      this.lastItems = undefined;
    }
    try {
      if (infoFile) {
        // Listed only while the dump is still ours, as every append is (fenced).
        const listed = await this.fenced(async () => last).catch(() => []);
        const seqs = await infoFile.finish(status, failure?.message, listed);
        listed.forEach((item, i) => this.emitFile(item, seqs[i]));
      }
    } catch (error) {
      // The disk that failed the dump may fail this write too; the status still reaches the caller.
      failure ??= describeFailure(error);
      status = 'Error';
      // The file stays Running: the chunklists are listed in it as they would have been.
      if (infoFile)
        for (const item of last)
          await this.fenced(() => infoFile.append(item.file, item.time)).then(
            (seq) => this.emitFile(item, seq),
            () => undefined,
          );
    }
    this.setStatus(status, failure);
    this.settle(this.progress());
  }

  /** Each chunklist in its final form; one that cannot be written stays a valid live form. */
  private async finishChunklists(): Promise<void> {
    await Promise.allSettled(this.renditions.map((r) => r.recorder.finishChunklist()));
  }

  /** The dump leaves this process unfinished: a suspend, or its ownership was lost. */
  private async release(reason: unknown): Promise<void> {
    await Promise.allSettled(this.renditions.map((r) => r.recorder.close()));
    await this.infoFile?.close().catch(() => undefined);
    if (isDumpError(reason, 'DUMP_FENCED')) this.failure = describeFailure(reason);
    this.settle(this.progress());
  }

  private async removeTemporaries(): Promise<void> {
    const { storage } = this.deps;
    const { outputPath, infoFile } = this.request;
    // Two listings at once: the infoFile's temporaries are named after it alone.
    await Promise.all([
      storage.removeTemporaries(outputPath),
      infoFile !== undefined && storage.removeTemporaries(dirname(infoFile), basename(infoFile)),
    ]);
  }

  private recorderContext(): RecorderContext {
    return {
      storage: this.deps.storage,
      client: this.deps.client,
      names: this.names,
      outputPath: this.request.outputPath,
      segmentAttempts: this.limits.segmentAttempts,
      signal: this.abort.signal,
      writeFile: (path, kind, write, listedWith) => this.writeFile(path, kind, write, listedWith),
      writeUnlisted: async (path, kind, write) => ({
        file: path,
        kind,
        bytes: await this.fenced(write),
      }),
      onGap: (chunklist, msn, reason) => this.emit({ type: 'gap', chunklist, msn, reason }),
      onNotice: (chunklist, tag, message) => this.onNotice(chunklist, tag, message),
      saveCheckpoint: () => this.saveCheckpoint(),
    };
  }

  /** Tells what the copy could not honour: in the status, and as an event the log writes. */
  private onNotice(playlist: string, tag: string, message: string): void {
    const line = `${playlist}: ${tag} ${message}`;
    // Bounded: an origin varying a tag per segment must not grow the status without end.
    if (this.notices.has(line) || this.notices.size >= MAX_NOTICES) return;
    this.notices.add(line);
    this.emit({ type: 'notice', chunklist: playlist, tag, message });
  }

  /**
   * Saves the checkpoint as it stands. Renditions that advance while a save is in flight share the
   * one save after it, which includes all of them: each caller still returns only once a checkpoint
   * with its own change is saved, and the renditions of a stream, whose segments complete at the
   * same moment, cost one or two saves instead of one each.
   */
  private saveCheckpoint(): Promise<void> {
    if (this.checkpointQueued) return this.checkpointQueued;
    const inFlight = this.checkpointSaving;
    if (inFlight === undefined) return this.startCheckpointSave();
    this.checkpointQueued = inFlight.then(() => {
      this.checkpointQueued = undefined;
      return this.startCheckpointSave();
    });
    return this.checkpointQueued;
  }

  private startCheckpointSave(): Promise<void> {
    const saving = this.writeCheckpoint().finally(() => {
      if (this.checkpointSaving === saving) this.checkpointSaving = undefined;
    });
    this.checkpointSaving = saving;
    return saving;
  }

  private async writeCheckpoint(): Promise<void> {
    try {
      await this.deps.onCheckpoint?.(this.checkpoint());
    } catch {
      // The checkpoint store is away (Redis down): the dump goes on writing; the chunklists on
      // disk let a later owner catch up (see RenditionRecorder.restore).
    }
  }

  /**
   * Every write of the dump: fenced, then listed in the infoFile only once it is complete, after
   * `listedWith` (files written before it) and in the same infoFile write.
   */
  private async writeFile(
    path: string,
    kind: FileKind,
    write: () => Promise<number>,
    listedWith: readonly WrittenFile[] = [],
  ): Promise<void> {
    let bytes: number;
    try {
      bytes = await this.fenced(write);
    } catch (error) {
      // The files written before it are complete, whatever became of this one.
      if (listedWith.length > 0) await this.list(listedWith).catch(() => undefined);
      throw error;
    }
    await this.list([...listedWith, { file: path, kind, bytes }]);
  }

  /** Lists complete files in the infoFile, in order and in one write, and tells them. */
  private async list(files: readonly WrittenFile[]): Promise<void> {
    const lastItems = this.lastItems;
    if (lastItems) {
      // Finishing: listed by the infoFile's final rewrite (see finish).
      const time = this.deps.now?.() ?? new Date();
      for (const file of files) {
        this.filesWritten++;
        this.bytesWritten += file.bytes;
        lastItems.push({ ...file, time });
      }
      return;
    }
    // Fenced again: the file's write can outlast the ownership that let it start, and two
    // writers of one infoFile would tear it. The appends are made in one turn: one patch.
    const infoFile = this.infoFile;
    const seqs = await this.fenced(async () =>
      infoFile ? Promise.all(files.map((file) => infoFile.append(file.file))) : [],
    );
    for (const [index, file] of files.entries()) {
      // Once the dump records, its infoFile's final version gets its file ahead of the stop.
      if (file.kind === 'segment') infoFile?.prepareFinish();
      this.filesWritten++;
      this.bytesWritten += file.bytes;
      this.emitFile(file, seqs[index]);
    }
  }

  private emitFile(item: WrittenFile, seq?: number): void {
    const { file: path, kind, bytes } = item;
    this.emit({ type: 'file', path, kind, bytes, ...(seq === undefined ? {} : { seq }) });
  }

  private async fenced<T>(write: () => Promise<T>): Promise<T> {
    try {
      await this.deps.beforeWrite?.();
    } catch (error) {
      throw new DumpError(
        'DUMP_FENCED',
        `This process no longer owns the dump: ${describeFailure(error).message}`,
        {
          cause: error,
        },
      );
    }
    return write();
  }

  private setStatus(status: EngineStatus, failure?: DumpFailure): void {
    this.status = status;
    this.failure = failure;
    this.emit(failure ? { type: 'status', status, error: failure } : { type: 'status', status });
  }

  private emit(event: EngineEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** Every rendition the masters reference (variants and alternate media with a URI), once each. */
function renditionsOf(masters: MasterCopy[]): string[] {
  const urls = new Set<string>();
  for (const master of masters) {
    if (!isMasterPlaylist(master.text)) {
      urls.add(master.url);
      continue;
    }
    const parsed = parseMasterPlaylist(master.text, master.url);
    for (const variant of parsed.variants) urls.add(variant.uri);
    for (const media of parsed.media) if (media.uri !== undefined) urls.add(media.uri);
    for (const uri of parsed.iFramePlaylists) urls.add(uri);
  }
  if (urls.size === 0)
    throw new DumpError('PLAYLIST_INVALID', 'The master playlists reference no rendition');
  return [...urls];
}

/**
 * The newest segment every rendition has complete: where the dump starts on all of them. A stream
 * that has already ended has no live edge; it is copied whole.
 */
function liveEdge(details: RenditionDetails[]): number {
  const oldest = Math.max(...details.map((d) => d.startSn));
  if (details.every((d) => d.endList)) return oldest;
  const newest = Math.min(...details.map((d) => d.endSn));
  return Math.max(newest, oldest);
}

/** The playlist as loaded, without the segments from `stopMsn` on. */
function segmentsBefore(details: RenditionDetails, stopMsn: number): RenditionDetails {
  if (details.endSn < stopMsn) return details;
  const trimmed = Object.create(Object.getPrototypeOf(details) as object) as RenditionDetails;
  return Object.assign(trimmed, details, {
    segments: details.segments.filter((segment) => segment.msn < stopMsn),
  });
}
