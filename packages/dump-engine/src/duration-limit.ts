import type { MediaSegment } from '@hlsdump/hls-client';

/** What a resumed dump needs to go on counting its media time (part of the checkpoint). */
export interface DurationLimitState {
  /** The dump's first media sequence number. */
  startMsn: number;
  /** The last sequence number counted, if any. */
  countedThrough?: number;
  /** Media seconds from startMsn through countedThrough. */
  seconds: number;
  /** The first sequence number past the limit, once known: no rendition records it or later. */
  stopMsn?: number;
}

/**
 * `maxDurationSeconds`: media time, not wall time. Counted over the segments' EXTINF durations
 * from the dump's first segment, as the playlists list them (a segment the origin no longer
 * lists counts its target duration); the dump ends before the first segment that starts at or
 * past the limit, at the same sequence number on every rendition.
 */
export class DurationLimit {
  private state: DurationLimitState | undefined;

  constructor(
    readonly maxSeconds: number,
    restored?: DurationLimitState,
  ) {
    this.state = restored === undefined ? undefined : { ...restored };
  }

  /** The first segment of the dump; ignored once counting has begun (a resumed dump). */
  begin(startMsn: number): void {
    this.state ??= { startMsn, seconds: 0 };
  }

  get stopMsn(): number | undefined {
    return this.state?.stopMsn;
  }

  get seconds(): number {
    return this.state?.seconds ?? 0;
  }

  /** Counts what a playlist load shows beyond what was counted. */
  observe(segments: readonly MediaSegment[], targetDuration: number): void {
    const state = this.state;
    if (state === undefined || state.stopMsn !== undefined) return;
    for (const segment of segments) {
      const next = (state.countedThrough ?? state.startMsn - 1) + 1;
      if (segment.msn < next) continue;
      // Segments gone from the window before anyone saw them: their nominal length.
      for (let missing = next; missing < segment.msn; missing++) {
        if (this.reached(state, missing)) return;
        state.seconds += targetDuration;
        state.countedThrough = missing;
      }
      if (this.reached(state, segment.msn)) return;
      state.seconds += segment.duration;
      state.countedThrough = segment.msn;
    }
    if (state.countedThrough !== undefined) this.reached(state, state.countedThrough + 1);
  }

  private reached(state: DurationLimitState, msn: number): boolean {
    // A thousandth of a second of slack: EXTINF values are rounded.
    if (state.seconds < this.maxSeconds - 0.001) return false;
    state.stopMsn = msn;
    return true;
  }

  checkpoint(): DurationLimitState | undefined {
    return this.state === undefined ? undefined : { ...this.state };
  }
}
