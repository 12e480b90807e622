// Faults drawn at random from a seed, so that a run that found something can be replayed.
import { faultsFor, type FaultKind, type FaultRequest } from './fault-server.js';

/** mulberry32: a small, fast, well-spread 32-bit generator; the same seed gives the same draws. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomFaultsOptions {
  readonly seed: number;
  /** Share of requests answered with a fault, 0..1. */
  readonly rate: number;
}

/** A `choose` for createFaultServer: each request gets a fault with probability `rate`. */
export function randomFaults(
  options: RandomFaultsOptions,
): (request: FaultRequest) => FaultKind | undefined {
  const random = seededRandom(options.seed);
  return (request) => {
    if (random() >= options.rate) return undefined;
    const kinds = faultsFor(request.class);
    return kinds[Math.floor(random() * kinds.length)];
  };
}
