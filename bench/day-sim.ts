// A day-long dump, simulated: the test origin's clock runs fast (--speed media seconds per real
// second) and one dump records it for --hours media hours. Per media hour: the dump process's CPU
// per segment, bytes written per segment (everything it writes: segments, chunklists, infoFile) and
// its live heap after a full GC. A dump's cost must not grow with its length: hour 24 within ×1.1
// of hour 1, heap growth < 1 MB.
//
//   npm run build && node bench/day-sim.ts [--hours 24] [--speed 300] [--renditions 3|1]
//
// Appends a section to bench/results/day-simulation.md (machine, date, table, verdicts).
import { fork, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DumpRequest } from '@hlsdump/dump-engine';
import { WORKER_NODE_FLAGS } from '@hlsdump/worker/node-flags';
import { machineSummary } from '../test/support/machine.ts';
import { summariseProfiles, type ProfileSummary } from './lib/cpu-profile.ts';
import { commitOf } from './lib/worker-build.ts';
import type { DayDumpMessage, HourReport, LiveHeap } from './lib/day-dump.ts';
import { startOriginProcess } from './lib/origin-host.ts';

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '24' },
    speed: { type: 'string', default: '300' },
    renditions: { type: 'string', default: '3' },
    // Real seconds of segments the origin keeps: how far the dump may fall behind without a gap.
    'window-seconds': { type: 'string', default: '20' },
    results: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // The dump process under node --cpu-prof; where its CPU goes is printed and added to the section.
    profile: { type: 'boolean', default: false },
  },
});
const hours = Number(values.hours);
const speed = Number(values.speed);
const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsFile = values.results ?? join(benchDir, 'results', 'day-simulation.md');
const SEGMENT_SECONDS = 4; // the test origin's fixtures
const started = new Date();
const runDir = await mkdtemp(join(os.tmpdir(), 'hlsdump-day-'));
const origin = await startOriginProcess({ speed });
let child: ChildProcess | undefined;
// A hard bound: the run stops by itself (twice the planned real time, plus a margin).
const hardLimit = setTimeout(
  () => {
    console.error('day-sim: hard time limit reached');
    child?.kill('SIGKILL');
    void origin.close().finally(() => process.exit(3));
  },
  ((hours * 3600) / speed) * 2000 + 120_000,
);
try {
  // The window holds --window-seconds of real time, so a dump that falls behind for a moment at
  // this clock (the machine is shared) loses nothing; it is as long at hour 24 as at hour 1.
  const windowSegments = Math.max(
    10,
    Math.ceil((speed * Number(values['window-seconds'])) / SEGMENT_SECONDS),
  );
  const [stream] = await origin.call('add', {
    app: 'day',
    streams: ['day'],
    options: { windowSegments },
  });
  if (!stream) throw new Error('the origin added no stream');
  const base = new URL('.', stream.masterUrl).href;
  // One rendition: its media playlist named as the master (the dump copies it alone).
  const master = await (await fetch(stream.masterUrl)).text();
  const audio = /chunklist_\d+_audio_[^"\s]+/.exec(master)?.[0];
  if (values.renditions === '1' && !audio) throw new Error(`no audio chunklist in ${master}`);
  const playlist = values.renditions === '1' ? audio! : 'llhls.m3u8';
  const request: DumpRequest = {
    originBaseUrl: base,
    playlists: [playlist],
    outputPath: join(runDir, 'out'),
    infoFile: join(runDir, 'info.xml'),
    streamName: '/default/day/day',
  };
  const rows: HourReport[] = [];
  let start: { heap: LiveHeap } | undefined;
  let done: { status: string; gaps: number } | undefined;
  const dumpProcess = fork(
    join(benchDir, 'lib', 'day-dump.ts'),
    [JSON.stringify(request), String(SEGMENT_SECONDS), String(hours)],
    {
      execArgv: [
        // The worker's own Node flags: the dump's collector works as in a worker.
        ...WORKER_NODE_FLAGS,
        '--expose-gc',
        ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(runDir, 'profile')}`] : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  child = dumpProcess;
  await new Promise<void>((resolve, reject) => {
    dumpProcess.on('message', (message: DayDumpMessage) => {
      if (message.type === 'start') start = message;
      if (message.type === 'hour') {
        rows.push(message);
        console.log(
          `hour ${message.hour}: ${message.cpuPerSegmentMs.toFixed(3)} ms CPU, ` +
            `${Math.round(message.bytesPerSegment)} B written per segment, heap ${(message.heap.heapUsed / 1e6).toFixed(2)} MB, ` +
            `${message.realSeconds.toFixed(1)} s real, chunklist ${message.chunklistBytes.join('/')} B`,
        );
      }
      if (message.type === 'done') done = message;
    });
    dumpProcess.once('exit', (code) =>
      done ? resolve() : reject(new Error(`dump exited with ${code}`)),
    );
  });
  const profile = values.profile ? await summariseProfiles(join(runDir, 'profile'), 20) : undefined;
  if (profile) console.log(JSON.stringify(profile.functions.slice(0, 12), null, 1));
  if (!start || !done || rows.length === 0) throw new Error('the dump reported no hour');
  await appendFile(resultsFile, report({ rows, start, done, request, windowSegments, profile }));
  console.log(`results appended to ${resultsFile}`);
} finally {
  clearTimeout(hardLimit);
  await origin.close();
  if (!values.keep) await rm(runDir, { recursive: true, force: true });
}

function report({
  rows,
  start,
  done,
  request,
  windowSegments,
  profile,
}: {
  rows: HourReport[];
  start: { heap: LiveHeap };
  done: { status: string; gaps: number };
  request: DumpRequest;
  windowSegments: number;
  profile: ProfileSummary | undefined;
}): string {
  const first = rows[0]!;
  const lastRow = rows[rows.length - 1]!;
  const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
  const cpuRatio = lastRow.cpuPerSegmentMs / first.cpuPerSegmentMs;
  const bytesRatio = lastRow.bytesPerSegment / first.bytesPerSegment;
  const heapGrowth = lastRow.heap.heapUsed - first.heap.heapUsed;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const lines = [
    '',
    `## Day-long dump, simulated — ${started.toISOString()}`,
    '',
    `- Machine: ${machineSummary()} (shared)`,
    `- Build: ${commitOf(dirname(benchDir))}`,
    `- One dump of ${request.playlists[0] === 'llhls.m3u8' ? '3 renditions' : '1 rendition'} (LL-HLS, 4 s segments, 1 s parts) ` +
      `from the test origin in its own process, clock ×${speed} (${hours} media hours in ` +
      `${rows.reduce((s, r) => s + r.realSeconds, 0).toFixed(0)} s real), origin window ${windowSegments} segments; ` +
      `the dump alone in a process of its own (\`bench/lib/day-dump.ts\`: HlsDump + LocalStorage + OriginClient, as a worker runs it, without Redis), with the worker's Node flags (${WORKER_NODE_FLAGS.join(' ')}).`,
    "- CPU: the dump process's user + system time over the hour / segments written in it (all renditions). " +
      "Bytes: the process's write() bytes (/proc/self/io wchar: segments, chunklist appends, infoFile Items) per segment. " +
      'Heap: heapUsed after two full GCs, at the end of the hour.',
    `- Dump ended ${done.status}, gaps ${done.gaps}; heap at the start ${mb(start.heap.heapUsed)} MB.`,
    '',
    '| Media hour | Segments | CPU ms per segment | Bytes written per segment | Live heap MB | External MB | Chunklist entries / bytes (first rendition) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.hour} | ${r.segments} | ${r.cpuPerSegmentMs.toFixed(3)} | ${Math.round(r.bytesPerSegment)} | ${mb(r.heap.heapUsed)} | ${mb(r.heap.external)} | ${r.chunklistEntries[0]} / ${r.chunklistBytes[0]} |`,
    ),
    '',
    '| Target | Measured | Met |',
    '| --- | --- | --- |',
    `| CPU per segment at hour ${lastRow.hour} within ×1.1 of hour 1 | ${lastRow.cpuPerSegmentMs.toFixed(3)} vs ${first.cpuPerSegmentMs.toFixed(3)} ms (×${cpuRatio.toFixed(3)}) | ${verdict(cpuRatio <= 1.1)} |`,
    `| Bytes written per segment at hour ${lastRow.hour} within ×1.1 of hour 1 | ${Math.round(lastRow.bytesPerSegment)} vs ${Math.round(first.bytesPerSegment)} B (×${bytesRatio.toFixed(3)}) | ${verdict(bytesRatio <= 1.1)} |`,
    `| Live heap flat: growth from hour 1 to hour ${lastRow.hour} < 1 MB | ${mb(heapGrowth)} MB | ${verdict(heapGrowth < 1e6)} |`,
    '',
  ];
  if (profile) {
    lines.push(
      `Where the dump process's CPU goes (node --cpu-prof, self time, ${(profile.busyMs / 1000).toFixed(1)} s busy):`,
      '',
      '| Package | Share |',
      '| --- | ---: |',
      ...profile.packages.map((p) => `| ${p.name} | ${(p.share * 100).toFixed(1)} % |`),
      '',
      '| Function | Share |',
      '| --- | ---: |',
      ...profile.functions.map((f) => `| \`${f.name}\` | ${(f.share * 100).toFixed(1)} % |`),
      '',
    );
  }
  return lines.join('\n');
}
