// One live stream of the origin: its timeline over the fixtures, its playlists, the fault
// switches a test flips, and the request log. HTTP framing lives in origin-server.ts.
import { randomBytes } from 'node:crypto';
import type { FixtureRendition, RenditionId } from './fixtures.js';
import { RenditionTimeline } from './rendition-timeline.js';
import type { StreamClock } from './stream-clock.js';
import { StreamFaults } from './faults.js';
import { renderChunklist, type ChunklistSegment } from './chunklist.js';
import { renderMasterPlaylist, type MasterVariant } from './master-playlist.js';
import {
  ABR_PLAYLIST,
  MASTER_PLAYLIST,
  chunklistName,
  initName,
  partName,
  segmentName,
  type RequestKind,
  type ResourceRef,
} from './llhls-names.js';

export type StreamMode = 'llhls' | 'hls';

export interface StreamOptions {
  /** 'hls': whole segments only, no parts, preload hints or blocking reload. Default 'llhls'. */
  readonly mode?: StreamMode;
  /** Parts (1-second fixture fragments) per segment. Default 4. */
  readonly partsPerSegment?: number;
  /** Complete segments listed; older ones answer 404. Default 10. */
  readonly windowSegments?: number;
  /** Complete segments that already exist when the stream is added. Default windowSegments. */
  readonly startSegments?: number;
  /** Emit EXT-X-PROGRAM-DATE-TIME (base: wall time of stream media time 0). Default true. */
  readonly programDateTime?: boolean;
  /** The <stream key> part of OME file names. Default: random. */
  readonly streamKey?: string;
}

export interface RenditionInfo {
  readonly id: RenditionId;
  readonly trackId: number;
  readonly type: 'video' | 'audio';
  readonly codecs: string;
  readonly bandwidth: number;
  readonly timescale: number;
  readonly resolution?: { readonly width: number; readonly height: number };
}

export interface RenditionStatus {
  /** Segments completed so far (the newest complete one is completeSegments - 1). */
  readonly completeSegments: number;
  /** First MSN still in the window (equals completeSegments when none is complete yet). */
  readonly firstMsn: number;
  /** Parts of the in-progress segment already available. */
  readonly partsInProgress: number;
}

export interface RequestRecord {
  readonly path: string;
  readonly kind: RequestKind;
  /** Set once answered; 0 if the connection was dropped before a status went out. */
  status: number;
  /** Origin clock (media seconds) when the request arrived. */
  readonly at: number;
  /** Wall clock (epoch ms) when the request arrived. */
  readonly wallMs?: number;
  /** The client's User-Agent header, when it sent one (tells peers apart in benchmarks). */
  readonly userAgent?: string;
  /** The arrival-order number of the TCP connection the request came on. */
  readonly connection?: number;
}

export interface Reply {
  readonly status: number;
  readonly contentType?: string;
  readonly body?: Buffer;
}

export interface StreamControl {
  readonly app: string;
  readonly stream: string;
  readonly streamKey: string;
  readonly mode: StreamMode;
  readonly partsPerSegment: number;
  readonly windowSegments: number;
  readonly targetDuration: number;
  readonly partTarget: number;
  readonly renditions: readonly RenditionInfo[];
  /** URLs of the two multivariant playlists: all variants, and video_0 only. */
  readonly masterUrl: string;
  readonly abrUrl: string;
  chunklistUrl(rendition: RenditionId): string;
  initUrl(rendition: RenditionId): string;
  segmentUrl(rendition: RenditionId, msn: number): string;
  partUrl(rendition: RenditionId, msn: number, part: number): string;

  /** Stream media time in seconds (stream start = 0). */
  streamTime(): number;
  status(rendition: RenditionId): RenditionStatus;
  /** Resolves once segment `msn` is complete in every rendition (or false if the stream ended first / origin closed). */
  waitForSegment(msn: number): Promise<boolean>;

  /** Exact bytes the origin serves, without HTTP. */
  initBytes(rendition: RenditionId): Buffer;
  segmentBytes(rendition: RenditionId, msn: number): Buffer;
  partBytes(rendition: RenditionId, msn: number, part: number): Buffer;
  segmentDuration(rendition: RenditionId, msn: number): number;
  partDuration(rendition: RenditionId, msn: number, part: number): number;
  /** EXT-X-PROGRAM-DATE-TIME of the segment. */
  programDateTime(rendition: RenditionId, msn: number): Date;
  /** Wall clock (epoch ms) at which segment `msn` is (or was) complete at the origin, at any speed. */
  segmentCompletedAt(rendition: RenditionId, msn: number): number;

  /** Delay added before every response of this stream. */
  setLatency(ms: number): void;
  /** The next `count` requests (matching `match`, if given) answer `status`. */
  failNext(count: number, status?: number, match?: RegExp): void;
  /** Those segments and their parts answer 404 while staying listed. */
  missingSegments(msns: readonly number[]): void;
  /** The next `count` matching responses lose their connection mid-body. */
  dropConnection(match: RegExp, count?: number): void;
  /** The next `count` matching responses send headers and half the body, then pause `ms`. */
  stall(match: RegExp, ms: number, count?: number): void;
  /** Put #EXT-X-DISCONTINUITY before segment `msn`. */
  discontinuityAt(msn: number): void;
  /** No more segments: ENDLIST after the last segment complete in every rendition. */
  end(): void;
  /** Everything of the stream answers 404 until restore(). */
  disappear(): void;
  restore(): void;

  /** Requests seen so far, optionally of one kind and/or path pattern. */
  requestCount(kind?: RequestKind, match?: RegExp): number;
  readonly requests: readonly RequestRecord[];
}

// OME lists the parts of only the newest few segments.
const SEGMENTS_WITH_PARTS = 3;
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const MP4_TYPE = 'video/mp4';

interface Track {
  readonly info: RenditionInfo;
  readonly timeline: RenditionTimeline;
}

export interface LiveStreamDeps {
  readonly clock: StreamClock;
  readonly baseUrl: string;
  readonly renditions: readonly FixtureRendition[];
  /** Aborted when the origin closes. */
  readonly closed: AbortSignal;
}

export class LiveStream implements StreamControl {
  readonly streamKey: string;
  readonly mode: StreamMode;
  readonly partsPerSegment: number;
  readonly windowSegments: number;
  readonly targetDuration: number;
  readonly partTarget: number;
  readonly renditions: readonly RenditionInfo[];
  readonly masterUrl: string;
  readonly abrUrl: string;
  readonly requests: RequestRecord[] = [];
  readonly faults = new StreamFaults();

  readonly #clock: StreamClock;
  readonly #closed: AbortSignal;
  readonly #tracks: readonly Track[];
  readonly #dir: string;
  readonly #programDateTime: boolean;
  /** Stream time = clock time - #clockOffset. */
  readonly #clockOffset: number;
  readonly #pdtBaseMs: number;
  #endSegments: number | undefined;
  #gone = false;
  #changed = new AbortController();

  constructor(
    readonly app: string,
    readonly stream: string,
    options: StreamOptions,
    deps: LiveStreamDeps,
  ) {
    this.mode = options.mode ?? 'llhls';
    this.partsPerSegment = positiveInt(options.partsPerSegment ?? 4, 'partsPerSegment');
    this.windowSegments = positiveInt(options.windowSegments ?? 10, 'windowSegments');
    const startSegments = options.startSegments ?? this.windowSegments;
    if (!Number.isInteger(startSegments) || startSegments < 0)
      throw new Error(`invalid startSegments ${startSegments}`);
    this.streamKey = options.streamKey ?? randomBytes(6).toString('hex');
    if (!/^[A-Za-z0-9-]+$/.test(this.streamKey))
      throw new Error(`stream key must be [A-Za-z0-9-]: ${this.streamKey}`);
    this.#programDateTime = options.programDateTime ?? true;
    this.#clock = deps.clock;
    this.#closed = deps.closed;
    this.#dir = `${deps.baseUrl}/${encodeURIComponent(app)}/${encodeURIComponent(stream)}/`;
    this.masterUrl = this.#dir + MASTER_PLAYLIST;
    this.abrUrl = this.#dir + ABR_PLAYLIST;

    this.#tracks = deps.renditions.map((rendition, trackId) => ({
      info: {
        id: rendition.id,
        trackId,
        type: rendition.type,
        codecs: rendition.codecs,
        bandwidth: rendition.bandwidth,
        timescale: rendition.timescale,
        ...(rendition.resolution ? { resolution: rendition.resolution } : {}),
      },
      timeline: new RenditionTimeline(rendition, this.partsPerSegment),
    }));
    this.renditions = this.#tracks.map((t) => t.info);
    this.targetDuration = Math.max(
      1,
      ...this.#tracks.map((t) => Math.round(t.timeline.maxSegmentDuration())),
    );
    // Rounded up so no part is ever longer than the advertised PART-TARGET.
    this.partTarget =
      Math.ceil(Math.max(...this.#tracks.map((t) => t.timeline.maxPartDuration())) * 1e6) / 1e6;

    // Start where every rendition has just completed `startSegments` segments.
    const startTime = Math.max(
      0,
      ...this.#tracks.map((t) => (startSegments > 0 ? t.timeline.segmentStart(startSegments) : 0)),
    );
    this.#clockOffset = this.#clock.now() - startTime;
    this.#pdtBaseMs = Date.now() - startTime * 1000;
  }

  // ---- time and availability ----

  streamTime(): number {
    return this.#clock.now() - this.#clockOffset;
  }

  #track(id: RenditionId | number): Track {
    const track =
      typeof id === 'number' ? this.#tracks[id] : this.#tracks.find((t) => t.info.id === id);
    if (!track) throw new Error(`unknown rendition ${id}`);
    return track;
  }

  #partsAvailable(track: Track): number {
    if (this.#endSegments !== undefined) return this.#endSegments * this.partsPerSegment;
    return track.timeline.partsCompleteAt(this.streamTime());
  }

  status(rendition: RenditionId): RenditionStatus {
    return this.#status(this.#track(rendition));
  }

  #status(track: Track): RenditionStatus {
    const parts = this.#partsAvailable(track);
    const completeSegments = Math.floor(parts / this.partsPerSegment);
    return {
      completeSegments,
      firstMsn: Math.max(0, completeSegments - this.windowSegments),
      partsInProgress: this.mode === 'llhls' ? parts - completeSegments * this.partsPerSegment : 0,
    };
  }

  async waitForSegment(msn: number): Promise<boolean> {
    for (;;) {
      if (this.#closed.aborted) return false;
      const behind = this.#tracks.filter((t) => this.#status(t).completeSegments <= msn);
      if (behind.length === 0) return true;
      if (this.#endSegments !== undefined) return false;
      const readyAt = Math.max(
        ...behind.map((t) => t.timeline.partEnd((msn + 1) * this.partsPerSegment - 1)),
      );
      await this.#clock.waitUntil(readyAt + this.#clockOffset, this.#waitSignal());
    }
  }

  #waitSignal(): AbortSignal {
    return AbortSignal.any([this.#changed.signal, this.#closed]);
  }

  /** Wakes every held request so it re-evaluates against the new state. */
  #notifyChange(): void {
    this.#changed.abort();
    this.#changed = new AbortController();
  }

  // ---- names and bytes ----

  #name(track: Track, ref: 'chunklist' | 'init'): string {
    const { trackId, type } = track.info;
    return ref === 'chunklist'
      ? chunklistName(trackId, type, this.streamKey)
      : initName(trackId, type, this.streamKey);
  }

  chunklistUrl(rendition: RenditionId): string {
    return this.#dir + this.#name(this.#track(rendition), 'chunklist');
  }
  initUrl(rendition: RenditionId): string {
    return this.#dir + this.#name(this.#track(rendition), 'init');
  }
  segmentUrl(rendition: RenditionId, msn: number): string {
    const { trackId, type } = this.#track(rendition).info;
    return this.#dir + segmentName(trackId, msn, type, this.streamKey);
  }
  partUrl(rendition: RenditionId, msn: number, part: number): string {
    const { trackId, type } = this.#track(rendition).info;
    return this.#dir + partName(trackId, msn, part, type, this.streamKey);
  }

  initBytes(rendition: RenditionId): Buffer {
    return this.#track(rendition).timeline.rendition.init;
  }
  segmentBytes(rendition: RenditionId, msn: number): Buffer {
    return this.#track(rendition).timeline.segmentBytes(msn);
  }
  partBytes(rendition: RenditionId, msn: number, part: number): Buffer {
    return this.#track(rendition).timeline.partBytes(this.#partIndex(msn, part));
  }
  segmentDuration(rendition: RenditionId, msn: number): number {
    return this.#track(rendition).timeline.segmentDuration(msn);
  }
  partDuration(rendition: RenditionId, msn: number, part: number): number {
    return this.#track(rendition).timeline.partDuration(this.#partIndex(msn, part));
  }
  programDateTime(rendition: RenditionId, msn: number): Date {
    return new Date(this.#pdtBaseMs + this.#track(rendition).timeline.segmentStart(msn) * 1000);
  }

  segmentCompletedAt(rendition: RenditionId, msn: number): number {
    const end = this.#track(rendition).timeline.partEnd((msn + 1) * this.partsPerSegment - 1);
    return Date.now() + ((end - this.streamTime()) * 1000) / this.#clock.speed;
  }

  #partIndex(msn: number, part: number): number {
    if (part < 0 || part >= this.partsPerSegment) throw new Error(`part ${part} out of range`);
    return msn * this.partsPerSegment + part;
  }

  // ---- faults ----

  setLatency(ms: number): void {
    this.faults.latencyMs = Math.max(0, ms);
  }
  failNext(count: number, status = 503, match?: RegExp): void {
    this.faults.addFailures(count, status, match);
  }
  missingSegments(msns: readonly number[]): void {
    for (const msn of msns) this.faults.missingSegments.add(msn);
  }
  dropConnection(match: RegExp, count = 1): void {
    this.faults.addDrops(match, count);
  }
  stall(match: RegExp, ms: number, count = 1): void {
    this.faults.addStall(match, ms, count);
  }
  discontinuityAt(msn: number): void {
    this.faults.discontinuities.add(msn);
  }
  end(): void {
    if (this.#endSegments !== undefined) return;
    this.#endSegments = Math.min(...this.#tracks.map((t) => this.#status(t).completeSegments));
    this.#notifyChange();
  }
  disappear(): void {
    this.#gone = true;
    this.#notifyChange();
  }
  restore(): void {
    this.#gone = false;
    this.#notifyChange();
  }
  get ended(): boolean {
    return this.#endSegments !== undefined;
  }

  // ---- request log ----

  record(path: string, kind: RequestKind, userAgent?: string, connection?: number): RequestRecord {
    const record: RequestRecord = {
      path,
      kind,
      status: 0,
      at: this.#clock.now(),
      wallMs: Date.now(),
      ...(userAgent !== undefined ? { userAgent } : {}),
      ...(connection !== undefined ? { connection } : {}),
    };
    this.requests.push(record);
    return record;
  }

  requestCount(kind?: RequestKind, match?: RegExp): number {
    return this.requests.filter(
      (r) =>
        (kind === undefined || r.kind === kind) &&
        (match === undefined || ((match.lastIndex = 0), match.test(r.path))),
    ).length;
  }

  // ---- answering ----

  /**
   * The reply for a resource, holding blocking requests until what they wait for exists,
   * the stream changes (end/disappear), the origin closes, or 3 target durations pass.
   */
  async resolve(ref: ResourceRef, query: URLSearchParams): Promise<Reply> {
    const deadline = this.#clock.now() + 3 * this.targetDuration;
    for (;;) {
      if (this.#closed.aborted) return text(503, 'origin closing');
      if (this.#gone) return text(404, 'stream not found');
      const outcome = this.#tryResolve(ref, query);
      if ('status' in outcome) return outcome;
      if (this.#clock.now() >= deadline) return text(503, 'blocking request timed out');
      await this.#clock.waitUntil(
        Math.min(outcome.readyAt + this.#clockOffset, deadline),
        this.#waitSignal(),
      );
    }
  }

  /** A reply now, or the stream time at which to look again. */
  #tryResolve(ref: ResourceRef, query: URLSearchParams): Reply | { readyAt: number } {
    switch (ref.kind) {
      case 'master':
        return {
          status: 200,
          contentType: PLAYLIST_TYPE,
          body: Buffer.from(this.#masterPlaylist(ref.name)),
        };
      case 'chunklist':
        return this.#resolveChunklist(ref.track, query);
      case 'init': {
        const track = this.#tracks[ref.track];
        return track
          ? { status: 200, contentType: MP4_TYPE, body: track.timeline.rendition.init }
          : text(404, 'no such track');
      }
      case 'segment':
        return this.#resolveSegment(ref.track, ref.msn);
      case 'part':
        return this.#resolvePart(ref.track, ref.msn, ref.part);
      case 'unknown':
        return text(404, 'not found');
    }
  }

  #resolveChunklist(trackId: number, query: URLSearchParams): Reply | { readyAt: number } {
    const track = this.#tracks[trackId];
    if (!track) return text(404, 'no such track');
    const msnParam = query.get('_HLS_msn');
    // Plain HLS servers ignore delivery directives, as the spec asks of non-blocking servers.
    if (msnParam !== null && this.mode === 'llhls' && this.#endSegments === undefined) {
      const partParam = query.get('_HLS_part');
      let msn = Number(msnParam);
      let part = partParam === null ? undefined : Number(partParam);
      if (
        !Number.isInteger(msn) ||
        msn < 0 ||
        (part !== undefined && (!Number.isInteger(part) || part < 0))
      ) {
        return text(400, 'bad _HLS_msn/_HLS_part');
      }
      const { completeSegments } = this.#status(track);
      // completeSegments is the MSN of the in-progress segment, the last one the playlist shows.
      if (msn > completeSegments + 2) return text(400, '_HLS_msn too far ahead');
      if (part !== undefined && part >= this.partsPerSegment) {
        msn += 1;
        part = 0;
      }
      const partsNeeded =
        part === undefined
          ? (msn + 1) * this.partsPerSegment
          : msn * this.partsPerSegment + part + 1;
      if (this.#partsAvailable(track) < partsNeeded)
        return { readyAt: track.timeline.partEnd(partsNeeded - 1) };
    }
    return { status: 200, contentType: PLAYLIST_TYPE, body: Buffer.from(this.#chunklist(track)) };
  }

  #resolveSegment(trackId: number, msn: number): Reply {
    const track = this.#tracks[trackId];
    if (!track) return text(404, 'no such track');
    const { completeSegments, firstMsn } = this.#status(track);
    if (msn < firstMsn || msn >= completeSegments || this.faults.missingSegments.has(msn))
      return text(404, 'no such segment');
    return { status: 200, contentType: MP4_TYPE, body: track.timeline.segmentBytes(msn) };
  }

  #resolvePart(trackId: number, msn: number, part: number): Reply | { readyAt: number } {
    const track = this.#tracks[trackId];
    if (!track || this.mode !== 'llhls' || part >= this.partsPerSegment)
      return text(404, 'no such part');
    if (this.faults.missingSegments.has(msn)) return text(404, 'no such part');
    const index = msn * this.partsPerSegment + part;
    const available = this.#partsAvailable(track);
    if (index < available) {
      if (msn < this.#status(track).firstMsn) return text(404, 'part left the window');
      return { status: 200, contentType: MP4_TYPE, body: track.timeline.partBytes(index) };
    }
    // The preload-hinted part is held until it exists; anything further is unknown.
    if (index === available && this.#endSegments === undefined)
      return { readyAt: track.timeline.partEnd(index) };
    return text(404, 'no such part');
  }

  // ---- playlists ----

  #masterPlaylist(name: typeof MASTER_PLAYLIST | typeof ABR_PLAYLIST): string {
    const videos = this.#tracks.filter((t) => t.info.type === 'video');
    const audio = this.#tracks.find((t) => t.info.type === 'audio');
    if (!audio) throw new Error('fixtures have no audio rendition');
    const chosen = name === ABR_PLAYLIST ? videos.slice(0, 1) : videos;
    const variants = chosen.map((t): MasterVariant => ({
      uri: this.#name(t, 'chunklist'),
      bandwidth: t.info.bandwidth,
      averageBandwidth: t.timeline.rendition.averageBandwidth,
      resolution: t.info.resolution ?? { width: 0, height: 0 },
      frameRate: 30,
      codecs: t.info.codecs,
    }));
    return renderMasterPlaylist(variants, {
      groupId: 'audio',
      name: audio.info.id,
      uri: this.#name(audio, 'chunklist'),
      channels: 1,
      bandwidth: audio.info.bandwidth,
      averageBandwidth: audio.timeline.rendition.averageBandwidth,
      codecs: audio.info.codecs,
    });
  }

  #chunklist(track: Track): string {
    const lowLatency = this.mode === 'llhls';
    const { completeSegments, firstMsn, partsInProgress } = this.#status(track);
    const { trackId, type } = track.info;
    const ended = this.#endSegments !== undefined;
    const lastShown = partsInProgress > 0 ? completeSegments : completeSegments - 1;
    const segments: ChunklistSegment[] = [];
    for (let msn = firstMsn; msn <= lastShown; msn++) {
      const complete = msn < completeSegments;
      const partCount = complete ? this.partsPerSegment : partsInProgress;
      const withParts = lowLatency && msn > lastShown - SEGMENTS_WITH_PARTS;
      segments.push({
        msn,
        uri: segmentName(trackId, msn, type, this.streamKey),
        duration: track.timeline.segmentDuration(msn),
        complete,
        discontinuity: this.faults.discontinuities.has(msn),
        ...(this.#programDateTime
          ? { programDateTime: this.programDateTime(track.info.id, msn) }
          : {}),
        parts: withParts
          ? Array.from({ length: partCount }, (_, part) => ({
              uri: partName(trackId, msn, part, type, this.streamKey),
              duration: track.timeline.partDuration(msn * this.partsPerSegment + part),
              independent: type === 'video',
            }))
          : [],
      });
    }
    const next = completeSegments * this.partsPerSegment + partsInProgress;
    const nextMsn = Math.floor(next / this.partsPerSegment);
    return renderChunklist({
      lowLatency,
      targetDuration: this.targetDuration,
      partTarget: this.partTarget,
      partHoldBack: 3 * this.partTarget,
      mediaSequence: firstMsn,
      discontinuitySequence: [...this.faults.discontinuities].filter((d) => d < firstMsn).length,
      mapUri: this.#name(track, 'init'),
      segments,
      preloadHintUri: partName(
        trackId,
        nextMsn,
        next - nextMsn * this.partsPerSegment,
        type,
        this.streamKey,
      ),
      ended,
    });
  }
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${n}`);
  return n;
}

function text(status: number, message: string): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body: Buffer.from(message + '\n') };
}
