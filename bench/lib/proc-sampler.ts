// CPU and RSS of named groups of the bench's processes, sampled over time (/proc figures from
// test/support/proc-stats.ts).
import { cpuSeconds, rssBytes } from '../../test/support/proc-stats.ts';

export interface SampleRow {
  at: number;
  groups: Record<string, { pid: number; cpu: number | undefined; rss: number | undefined }[]>;
}

export interface Sampler {
  samples: SampleRow[];
  stop(): SampleRow[];
}

/** Samples CPU and RSS of named process groups every `intervalMs` until stop(). */
export function startSampler(groups: () => Record<string, number[]>, intervalMs = 1000): Sampler {
  const samples: SampleRow[] = [];
  const take = () => {
    const row: SampleRow = { at: Date.now(), groups: {} };
    for (const [name, pids] of Object.entries(groups())) {
      row.groups[name] = pids.map((pid) => ({ pid, cpu: cpuSeconds(pid), rss: rssBytes(pid) }));
    }
    samples.push(row);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** CPU seconds of a sampled group between two moments (first and last sample in between). */
export function groupCpu(sampler: Sampler, group: string, from: number, to: number): number {
  const rows = sampler.samples.filter((s) => s.at >= from && s.at <= to);
  if (rows.length < 2) return 0;
  const sum = (row: SampleRow) => (row.groups[group] ?? []).reduce((s, p) => s + (p.cpu ?? 0), 0);
  return sum(rows[rows.length - 1]!) - sum(rows[0]!);
}
