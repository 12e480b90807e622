// Small statistics helpers for the bench: summaries, least-squares slope, formatting (percentiles
// are test/support's).
import { percentile } from '../../test/support/percentile.ts';

export interface Summary {
  n: number;
  p50: number | undefined;
  p99: number | undefined;
  max: number | undefined;
  mean: number | undefined;
}

export function summary(values: readonly number[]): Summary {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : undefined,
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined,
  };
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

export const fmt = (x: number | undefined | null, digits = 1): string =>
  x === undefined || x === null || Number.isNaN(x) ? 'n/a' : Number(x).toFixed(digits);
export const mb = (bytes: number | undefined, digits = 1): string =>
  fmt(bytes === undefined ? undefined : bytes / 2 ** 20, digits);
export const ms = (x: number | undefined): string => fmt(x, 0);
