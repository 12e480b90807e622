import { describe, expect, it } from 'vitest';
import { NameFilter } from './name-filter.js';

describe('NameFilter', () => {
  it('has every name added, and few it was never given, as it grows', () => {
    const filter = new NameFilter();
    expect(filter.has('seg1.ts')).toBe(false);
    const count = 100_000;
    for (let i = 0; i < count; i++) filter.add(`media_${i}.ts`);
    for (let i = 0; i < count; i++) expect(filter.has(`media_${i}.ts`)).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < count; i++) if (filter.has(`r1_media_${i}.ts`)) falsePositives++;
    // Each of its stages answers a false yes well under 1 % of the time.
    expect(falsePositives / count).toBeLessThan(0.02);
  });
});
