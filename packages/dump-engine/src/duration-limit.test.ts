import { MediaSegment } from '@hlsdump/hls-client';
import { describe, expect, it } from 'vitest';
import { DurationLimit } from './duration-limit.js';

const segment = (msn: number, duration: number): MediaSegment =>
  new MediaSegment({
    msn,
    uri: `http://o/s${msn}.m4s`,
    relativeUri: `s${msn}.m4s`,
    duration,
    discontinuity: false,
    discontinuitySequence: 0,
    gap: false,
    parts: [],
  });

describe('maxDurationSeconds as media time', () => {
  it('stops before the first segment that starts at or past the limit', () => {
    const limit = new DurationLimit(10);
    limit.begin(5);
    limit.observe(
      [4, 5, 6].map((msn) => segment(msn, 4)),
      4,
    );
    expect(limit.stopMsn).toBeUndefined();
    limit.observe(
      [5, 6, 7, 8].map((msn) => segment(msn, 4)),
      4,
    );
    // 5, 6, 7 start at 0, 4 and 8 s; 8 starts at 12 s.
    expect(limit.stopMsn).toBe(8);
    expect(limit.seconds).toBe(12);
  });

  it('counts segments gone from the window at the target duration, and survives a resume', () => {
    const limit = new DurationLimit(9);
    limit.begin(0);
    limit.observe([segment(0, 2)], 2);
    const resumed = new DurationLimit(9, limit.checkpoint());
    // 1..3 were never seen: 2 s each.
    resumed.observe([segment(4, 2), segment(5, 2)], 2);
    expect(resumed.seconds).toBe(10);
    expect(resumed.stopMsn).toBe(5);
  });

  it('an exact fit ends right after the last segment that fills it', () => {
    const limit = new DurationLimit(8);
    limit.begin(0);
    limit.observe([segment(0, 4), segment(1, 4)], 4);
    expect(limit.stopMsn).toBe(2);
  });
});
