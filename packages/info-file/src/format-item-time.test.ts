import { afterEach, describe, expect, it } from 'vitest';
import { formatItemTime } from './format-item-time.js';

const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe('formatItemTime', () => {
  const instant = new Date('2026-11-22T04:28:10.123Z');

  it('writes +00:00, never Z, in UTC', () => {
    process.env.TZ = 'UTC';
    expect(formatItemTime(instant)).toBe('2026-11-22T04:28:10.123+00:00');
  });

  it('writes the local offset, including half hours and negative ones', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(formatItemTime(instant)).toBe('2026-11-22T09:58:10.123+05:30');
    process.env.TZ = 'America/New_York';
    expect(formatItemTime(instant)).toBe('2026-11-21T23:28:10.123-05:00');
    expect(formatItemTime(new Date('2026-07-01T00:00:00.007Z'))).toBe(
      '2026-06-30T20:00:00.007-04:00',
    );
  });

  it('rejects an invalid date', () => {
    expect(() => formatItemTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
