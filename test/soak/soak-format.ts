// How the soak writes its figures: MiB from KiB, seconds from ms, h/m/s, '–' for none.
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
export const mib = (kb: number | undefined): string =>
  kb === undefined || !Number.isFinite(kb) ? '–' : (kb / 1024).toFixed(0);
export const secs = (ms: number | undefined, digits = 1): string =>
  ms === undefined ? '–' : (ms / 1000).toFixed(digits);
export const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
export const hms = (s: number): string =>
  `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
