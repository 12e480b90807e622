import type { DumpStorage } from '@hlsdump/storage';
import type { OriginClient, RetryPolicy } from '@hlsdump/hls-client';
import type { DurationLimitState } from './duration-limit.js';

/** What to dump: the stream's location at the origin and where its copy goes. */
export interface DumpRequest {
  /** The stream's base URL at the origin (ends with `/`); playlist names resolve against it. */
  originBaseUrl: string;
  /** Master playlist file names at the origin, each written to outputPath with local URIs. At least one. */
  playlists: string[];
  /** Absolute directory the dump is written to; created when missing. */
  outputPath: string;
  /** Absolute path of the infoFile; none is written when absent. */
  infoFile?: string;
  /** Written into the infoFile's `<UserData>`; ignored without infoFile. */
  userData?: string;
  /** The infoFile's `<Stream>`: `/{vhost}/{app}/{outputStreamName}`. */
  streamName: string;
  /** Ours: stop, Completed, after this much media (seconds of EXTINF, not wall time). */
  maxDurationSeconds?: number;
  /** Ours: `live` (default), `window`, or an ISO 8601 time (see start-position.ts). */
  from?: string;
  /** How to reach the origin beyond its URL (the app's origins entry). */
  origin?: OriginAccess;
}

export interface OriginAccess {
  /** Sent with every request to the origin. */
  headers?: Record<string, string>;
  /** PEM file of the CA an HTTPS origin's certificate chains to. */
  caFile?: string;
}

export interface DumpLimits {
  /** A playlist answering 404 this long means the stream has ended: Completed. */
  goneAfterMs: number;
  /** The origin unreachable (network errors, 5xx) this long: Error. */
  unreachableAfterMs: number;
  /** Retries of a single request (playlist, segment). */
  retry: RetryPolicy;
  /** How often a rendition's segment is retried before it is given up as a gap. */
  segmentAttempts: number;
}

/**
 * Where the engine is with one dump in this process. Not the registry's `DumpState` (the cluster's
 * view: queued, owned, stopping...) nor the infoFile's `InfoFileStatus` (what the file says).
 */
export type EngineStatus = 'Starting' | 'Running' | 'Completed' | 'Error';

export interface DumpFailure {
  /** Stable code: STREAM_NOT_FOUND, ORIGIN_UNREACHABLE, PLAYLIST_INVALID, STORAGE_FULL, STORAGE_DENIED, ... */
  code: string;
  message: string;
}

export interface RenditionProgress {
  /** The local chunklist file name. */
  chunklist: string;
  /** The origin's media sequence number of the last segment written. */
  lastMsn?: number;
  segments: number;
  bytes: number;
  gaps: number;
  /** How far the last written segment is behind the origin's live edge, in seconds. */
  lagSeconds?: number;
}

/** The registry reads it back as contracts' `progressSchema`: a field added here goes there too. */
export interface DumpProgress {
  status: EngineStatus;
  error?: DumpFailure;
  /** Why a finished dump ended: stopped, the origin's ENDLIST, the stream gone, or the failure. */
  endReason?: string;
  renditions: RenditionProgress[];
  /** Files written (every write, chunklist rewrites included) — the infoFile's Item count. */
  filesWritten: number;
  bytesWritten: number;
  gaps: number;
  /** What the dump could not honour in the origin's playlists, one line each (see EngineEvent 'notice'). */
  notices: string[];
}

/**
 * Everything a new owner needs to continue a dump where it was; JSON-serializable and small (its
 * size does not grow with the dump). The segments already listed are read back from the local
 * chunklists, which are always complete on disk; the infoFile's next Seq from the infoFile.
 */
export interface DumpCheckpoint {
  version: 2;
  request: DumpRequest;
  renditions: RenditionCheckpoint[];
  /** The media time counted towards `maxDurationSeconds`, when the request has one. */
  durationLimit?: DurationLimitState;
}

export interface RenditionCheckpoint {
  /** The origin's absolute chunklist URL. */
  url: string;
  chunklist: string;
  /** The origin's media sequence number of the last segment recorded or given up as a gap. */
  lastMsn?: number;
  /** Entries in the local chunklist once `lastEntry` is in it. */
  entryCount: number;
  /**
   * The newest entry. The checkpoint is saved before the chunklist is rewritten, so a chunklist on
   * disk one entry short (the owner died in between) is completed from here.
   */
  lastEntry?: ChunklistEntry;
  /** Local file of each init segment, by origin URL. */
  inits: Record<string, string>;
  gaps: number;
  bytes: number;
}

/** One segment as it stands in a local chunklist. */
export interface ChunklistEntry {
  /** The origin's media sequence number; unknown for entries read back from a chunklist on disk. */
  msn?: number;
  file: string;
  duration: number;
  title?: string;
  discontinuity: boolean;
  programDateTime?: string;
  /** Local init segment file this segment needs (EXT-X-MAP). */
  map?: string;
  /** The EXT-X-KEY lines in effect, ready to write (a copied key's URI made local). */
  keys?: string[];
  /** Tags kept as the origin wrote them (DATERANGE, CUE-OUT, ...), written before the segment. */
  tags?: string[];
  /** The origin marks the segment EXT-X-GAP: listed as such, no file. */
  gap?: boolean;
  /** The origin's discontinuity sequence number of this segment (the first one heads the chunklist). */
  discontinuitySequence?: number;
}

/** What a written file is: `key` is an AES-128 key copied beside the segments. */
export type FileKind = 'init' | 'segment' | 'chunklist' | 'master' | 'key';

/** A file completely on disk, with what its infoFile Item and its `file` event say of it. */
export interface WrittenFile {
  file: string;
  kind: FileKind;
  bytes: number;
}

/**
 * What one dump's engine tells its listeners in this process, as it happens. The cluster's events
 * between processes are `DumpEventMessage` (pub/sub, in contracts).
 */
export type EngineEvent =
  | {
      type: 'file';
      path: string;
      kind: FileKind;
      bytes: number;
      seq?: number;
    }
  | { type: 'gap'; chunklist: string; msn: number; reason: string }
  /** Something in the origin's playlist the copy cannot honour; told once per rendition and tag. */
  | { type: 'notice'; chunklist: string; tag: string; message: string }
  | { type: 'status'; status: EngineStatus; error?: DumpFailure };

export interface DumpDependencies {
  storage: DumpStorage;
  client: OriginClient;
  limits?: Partial<DumpLimits>;
  /**
   * Called before every write to the output; throwing stops the dump without finalizing it.
   * The worker uses it to fence a dump whose ownership was lost.
   */
  beforeWrite?: () => void | Promise<void>;
  /** Continue a dump from its checkpoint instead of starting one. */
  resumeFrom?: DumpCheckpoint;
  /**
   * Called with the new checkpoint whenever a rendition advanced, before its chunklist is
   * rewritten, and once the dump runs (called before start() resolves; the dump's first files
   * wait for it). Awaited; a failure (Redis away) does not stop the dump.
   */
  onCheckpoint?: (checkpoint: DumpCheckpoint) => Promise<void> | void;
  /**
   * Awaited once the dump runs, before its first files and segments; settles (never rejects) by
   * the signal's abort at the latest. The worker holds a new dump here while its other starts
   * are still on their way to an answer.
   */
  beforeRecording?: (signal: AbortSignal) => Promise<void>;
  now?: () => Date;
}
