// The results section a run appends: the machine and parameters, each phase's section, and every
// target met or missed.
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineSummary, type Machine } from '../test/support/machine.ts';
import { commitOf } from './lib/worker-build.ts';
import type { RunOptions } from './run-options.ts';
import { fmt } from './lib/stats.ts';

/** One target of the performance work, as measured in this run. */
export interface Target {
  name: string;
  measured: string;
  met: boolean;
}

/** What a phase adds to the results: its tables, and the targets it measures. */
export interface Section {
  lines: string[];
  targets: Target[];
}

export function buildReport(
  started: Date,
  m: Machine,
  options: RunOptions,
  sections: Section[],
  notes: string[],
): string {
  const L: string[] = ['', `## ${started.toISOString()}`, ''];
  const parameters = Object.entries(options)
    .filter(([k]) => !['skip', 'results', 'hardLimitS'].includes(k))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(', ');
  const skipped = options.skip.size ? `; skipped: ${[...options.skip].join(', ')}` : '';
  const load = (values: number[]) => values.map((x) => fmt(x, 2)).join(' / ');
  const tree = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const treeB =
    options.workerBTree === undefined
      ? ''
      : `; workers B: ${options.workerBTree} at ${commitOf(options.workerBTree)}`;
  L.push(
    `- Machine: ${machineSummary(m)}`,
    `- Build: ${commitOf(tree)}${treeB}`,
    `- Parameters: ${parameters}${skipped}`,
    `- Duration of the whole run: ${fmt((Date.now() - started.getTime()) / 1000, 0)} s; load average (1/5/15 min) at start ${load(m.loadavg)}, at end ${load(os.loadavg())} (other work on the machine shows here and makes lag and CPU figures noisier)`,
    '- Processes: test origin in its own process (node, its CPU reported apart), Redis (ephemeral redis-server), gateway and workers as `node services/*/dist/main.js`, ffmpeg peers `ffmpeg -i <master> -map 0 -c copy -f mpegts` (one per stream).',
    options.aligned
      ? '- Streams phase-aligned (--aligned): every segment of every stream completes at the same instant, the worst case for bursts.'
      : "- Streams' clocks spread evenly over one segment duration, as independent live streams are (`--aligned` gives the worst case: all segments completing at once).",
    "- Lag = the infoFile Item's `<Time>` of a segment minus the wall-clock moment the origin completed that segment (`segmentCompletedAt`, test-origin); ffmpeg has no infoFile, so its lag is the time of its GET of the segment at the origin (a lower bound for ffmpeg: its write comes after).",
    '',
  );
  for (const section of sections) L.push(...section.lines);
  L.push('### Targets', '', '| Target | Measured | Met |', '| --- | --- | --- |');
  for (const t of sections.flatMap((s) => s.targets))
    L.push(`| ${t.name} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`);
  L.push('');
  if (notes.length) L.push('### Notes', '', ...notes.map((n) => `- ${n}`), '');
  return L.join('\n');
}
