import { MediaSegment } from '@hlsdump/hls-client';
import { describe, expect, it } from 'vitest';
import { programDateTimes } from './program-date-time.js';

function segment(msn: number, extra: { pdt?: string; discontinuity?: boolean } = {}): MediaSegment {
  return new MediaSegment({
    msn,
    uri: `http://o/s${msn}.ts`,
    relativeUri: `s${msn}.ts`,
    duration: 2,
    discontinuity: extra.discontinuity ?? false,
    discontinuitySequence: 0,
    programDateTime: extra.pdt,
    gap: false,
    parts: [],
  });
}

describe('programDateTimes', () => {
  const window = [
    segment(10, { pdt: '2026-01-01T00:00:00.000Z' }),
    segment(11),
    segment(12),
    segment(13, { discontinuity: true }),
    segment(14, { pdt: '2026-01-01T01:00:00.000Z' }),
    segment(15),
  ];

  it('extrapolates untagged segments up to a discontinuity', () => {
    const dates = programDateTimes(window);
    expect(dates.get(12)).toBe('2026-01-01T00:00:04.000Z');
    expect(dates.has(13)).toBe(false);
    expect(dates.get(15)).toBe('2026-01-01T01:00:02.000Z');
  });

  it('gives the new segments of a reload the same dates as a walk of the whole window', () => {
    const whole = programDateTimes(window);
    for (let from = 10; from <= 16; from++) {
      const dates = programDateTimes(window, from);
      for (const s of window.filter((s) => s.msn >= from)) {
        expect(dates.get(s.msn), `from ${from}, msn ${s.msn}`).toBe(whole.get(s.msn));
      }
    }
  });
});
