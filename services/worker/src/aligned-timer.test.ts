import { describe, expect, it } from 'vitest';
import { TimerGrid } from './aligned-timer.js';

describe('TimerGrid', () => {
  it('lands every period on the same per-worker instants, at least half a period ahead', () => {
    const grid = new TimerGrid('worker-a');
    for (const now of [0, 1, 999, 1_000, 1_234_567, 1_764_600_000_123]) {
      for (const period of [1_000, 2_000, 4_000]) {
        const due = now + grid.delay(period, now);
        // On the grid: whole periods after the worker's phase, so a 4 s timer falls due with a 2 s one.
        expect((((due - grid.phaseMs) % period) + period) % period).toBe(0);
        expect(due - now).toBeGreaterThanOrEqual(period / 2);
        expect(due - now).toBeLessThan(period * 1.5);
      }
    }
    // A timer that fired at its instant (or a little before, by the loop's clock) waits a period.
    const at = 10_000 + grid.phaseMs;
    expect(grid.delay(2_000, at)).toBe(2_000);
    expect(grid.delay(2_000, at - 3)).toBe(2_003);
  });

  it('gives each worker its own phase, the same at every start', () => {
    expect(new TimerGrid('worker-a').phaseMs).toBe(new TimerGrid('worker-a').phaseMs);
    const phases = new Set(Array.from({ length: 20 }, (_, i) => new TimerGrid(`w${i}`).phaseMs));
    expect(phases.size).toBeGreaterThan(10);
  });
});
