// What parsing one reload of a media playlist costs: the whole window parsed again (every segment
// read and made anew) against a parse after the last load (the segments whose lines the reload
// repeats taken from it, as the playlist loader does), on the same texts in alternated batches.
//
//   npm run bench:playlist [-- --rounds 4 --base TREE --results FILE]
//
// --base: another build (a `git worktree`, built) whose parse is timed beside, on the same texts
// (as it was called then: without the last load).
// The texts are LL-HLS as OvenMediaEngine writes them (EXT-X-MAP, a program date and 4-second
// segments, 1-second parts listed on the last two complete segments and the one in progress, a
// preload hint): a live window that moves by one segment per reload, and an EVENT playlist that
// grows by one (a day of 2-second segments is 43 200). Appends a section to
// bench/results/playlist-reload.md (or --results) and prints it.
import console from 'node:console';
import { appendFile, mkdir } from 'node:fs/promises';
import process from 'node:process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { parseMediaPlaylist } from '@hlsdump/hls-client';
import type { RenditionDetails } from '@hlsdump/hls-client';
import { machineSummary } from '../test/support/machine.ts';
import { percentile } from '../test/support/percentile.ts';
import { commitOf } from './lib/worker-build.ts';

interface Case {
  name: string;
  kind: 'live' | 'event';
  /** Complete segments in the first text. */
  segments: number;
  /** Reloads timed per batch. */
  reloads: number;
}

const CASES: Case[] = [
  { name: 'live, window of 10', kind: 'live', segments: 10, reloads: 2_000 },
  { name: 'live, window of 100', kind: 'live', segments: 100, reloads: 400 },
  { name: 'EVENT, 1 000 segments', kind: 'event', segments: 1_000, reloads: 60 },
  { name: 'EVENT, 10 000 segments', kind: 'event', segments: 10_000, reloads: 8 },
];
const URL = 'http://origin.test/app/stream/chunklist_0_video_llhls.m3u8';
const START = Date.parse('2026-12-01T00:00:00Z');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    base: { type: 'string' },
    results: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
type Parse = (text: string, url: string, previous?: RenditionDetails) => RenditionDetails;
const baseParse: Parse | undefined = values.base
  ? (
      (await import(
        pathToFileURL(resolve(values.base, 'packages/hls-client/dist/index.js')).href
      )) as { parseMediaPlaylist: Parse }
    ).parseMediaPlaylist
  : undefined;
const resultsFile =
  values.results ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'playlist-reload.md');

/** The text of reload `k` of a case. */
function playlistText(c: Case, k: number): string {
  const first = c.kind === 'live' ? k : 0;
  const count = c.kind === 'live' ? c.segments : c.segments + k;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    '#EXT-X-TARGETDURATION:4',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.008001',
    '#EXT-X-PART-INF:PART-TARGET=1.002667',
    ...(c.kind === 'event' ? ['#EXT-X-PLAYLIST-TYPE:EVENT'] : []),
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    '#EXT-X-MAP:URI="init_0_video_llhls.m4s"',
  ];
  const parts = (msn: number, n: number) =>
    Array.from(
      { length: n },
      (_, p) =>
        `#EXT-X-PART:DURATION=1.000000,URI="part_0_${msn}_${p}_video_llhls.m4s",INDEPENDENT=YES`,
    );
  const last = first + count - 1;
  for (let msn = first; msn <= last; msn++) {
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(START + msn * 4000).toISOString()}`);
    if (msn >= last - 1) lines.push(...parts(msn, 4));
    lines.push('#EXTINF:4.000000,', `seg_0_${msn}_video_llhls.m4s`);
  }
  lines.push(
    `#EXT-X-PROGRAM-DATE-TIME:${new Date(START + (last + 1) * 4000).toISOString()}`,
    ...parts(last + 1, 2),
    `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_0_${last + 1}_2_video_llhls.m4s"`,
  );
  return lines.join('\n') + '\n';
}

interface Batch {
  cpuUs: number;
  allocatedBytes: number;
}

/** A way of parsing a reload: the name it is reported under, and whether it gets the last load. */
interface Mode {
  name: string;
  parse: Parse;
  afterLast: boolean;
}

const MODES: Mode[] = [
  ...(baseParse && values.base
    ? [{ name: `base ${commitOf(values.base)}`, parse: baseParse, afterLast: false }]
    : []),
  { name: 'whole window', parse: parseMediaPlaylist, afterLast: false },
  { name: 'after the last load', parse: parseMediaPlaylist, afterLast: true },
];

/** Parses texts[1..] one after the other. */
function runBatch(texts: string[], mode: Mode): Batch {
  let previous = mode.parse(texts[0]!, URL);
  const allocated = v8.getHeapStatistics().total_allocated_bytes;
  const cpu = process.cpuUsage();
  for (let i = 1; i < texts.length; i++) {
    previous = mode.parse(texts[i]!, URL, mode.afterLast ? previous : undefined);
  }
  const used = process.cpuUsage(cpu);
  const n = texts.length - 1;
  return {
    cpuUs: (used.user + used.system) / n,
    allocatedBytes: (v8.getHeapStatistics().total_allocated_bytes - allocated) / n,
  };
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const rows: string[] = [];
for (const c of CASES) {
  const batches = new Map<Mode, Batch[]>(MODES.map((mode) => [mode, []]));
  // A warm-up batch of each, untimed, then the modes in turn, the order reversed every other
  // round, so all see the same machine.
  for (let round = -1; round < rounds; round++) {
    const offset = (round + 1) * c.reloads;
    const texts = Array.from({ length: c.reloads + 1 }, (_, i) => playlistText(c, offset + i));
    const order = round % 2 === 0 ? MODES : [...MODES].reverse();
    for (const mode of order) {
      const batch = runBatch(texts, mode);
      if (round >= 0) batches.get(mode)!.push(batch);
    }
  }
  const figures = MODES.map((mode) => {
    const runs = batches.get(mode)!;
    return {
      cpu: percentile(
        runs.map((b) => b.cpuUs),
        50,
      )!,
      bytes: percentile(
        runs.map((b) => b.allocatedBytes),
        50,
      )!,
    };
  });
  const reference = figures[0]!;
  const cells = figures.flatMap((f, i) => [
    f.cpu.toFixed(1) + (i > 0 ? ` (×${(f.cpu / reference.cpu).toFixed(2)})` : ''),
  ]);
  const bytes = figures.map(
    (f, i) => kb(f.bytes) + (i > 0 ? ` (×${(f.bytes / reference.bytes).toFixed(2)})` : ''),
  );
  rows.push(`| ${c.name} | ${cells.join(' | ')} | ${bytes.join(' | ')} |`);
}

const report = [
  '',
  `## Parsing a reload (${new Date().toISOString()})`,
  '',
  `Machine: ${machineSummary()}. This build: ${commitOf(dirname(fileURLToPath(import.meta.url)))}.`,
  `Command: node bench/playlist-reload.ts --rounds ${rounds}${values.base ? ` --base ${values.base}` : ''}; p50 (nearest rank) of ${rounds} batches each, the modes alternated; ratios against the first column.`,
  '',
  `| Playlist | ${MODES.map((m) => `${m.name}: CPU µs per reload`).join(' | ')} | ${MODES.map((m) => `${m.name}: KB allocated per reload`).join(' | ')} |`,
  `| --- |${' ---: |'.repeat(MODES.length * 2)}`,
  ...rows,
  '',
].join('\n');
await mkdir(dirname(resultsFile), { recursive: true });
await appendFile(resultsFile, report);
console.log(report);
console.log(`Appended to ${resultsFile}`);
