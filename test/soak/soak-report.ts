import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import type { Cluster } from '../support/cluster.js';
import { machineLines } from '../support/machine.js';
import { percentile } from '../support/percentile.js';
import { REPO_ROOT } from '../support/spawn-node.js';
import type { Kill } from './kill-loop.js';
import { fmt, hms, mib, secs } from './soak-format.js';
import {
  P,
  PLANNED_REAL_S,
  SEGMENT_S,
  TEMP_FILE,
  USE_HEAP_PROBE,
  WORKER_ENV,
} from './soak-params.js';
import type { Soaked } from './soak-run.js';
import type { SoakSampler } from './soak-sampler.js';
import type { InfoCheck, RenditionCheck } from './verify-soaked.js';
import type { Incarnation } from './worker-incarnations.js';

/** Everything one soak run measured and found. */
export interface SoakFigures {
  cluster: Cluster;
  soaked: Soaked[];
  kills: Kill[];
  /** Kills with a dump that never ran again. */
  incomplete: Kill[];
  incarnations: Incarnation[];
  sampler: SoakSampler;
  renditionChecks: RenditionCheck[];
  infoChecks: InfoCheck[];
  warnings: Map<string, number>;
  problems: string[];
  startedMs: number;
  mediaAtStopS: number;
  realS: number;
  deadlineHit: boolean;
  /** CPU of this process (the origin and the checks) over the run. */
  testCpu: NodeJS.CpuUsage;
  logDir: string;
  outDir: string;
}

/** The run's section of bench/results/soak.md: machine, parameters, figures, tables, problems. */
export function soakReport(figures: SoakFigures): string {
  const {
    cluster: c,
    soaked,
    kills,
    incomplete,
    incarnations,
    renditionChecks,
    infoChecks,
    warnings,
    problems,
    startedMs,
    mediaAtStopS,
    realS,
    deadlineHit,
    testCpu,
    logDir,
    outDir,
  } = figures;
  const { requestsSeen, gatewayMem, selfMem, timeline } = figures.sampler;
  const failovers = kills.flatMap((k) =>
    Object.values(k.failoverMs).flatMap((v) => (v === undefined ? [] : [v])),
  );
  const catchUps = kills.flatMap((k) =>
    Object.values(k.catchUpMs).flatMap((v) => (v === undefined ? [] : [v])),
  );
  const allLags = soaked.flatMap((d) => d.lags);
  const steadyLags = soaked.flatMap((d) => d.steadyLags);
  const sum = (f: (x: RenditionCheck) => number): number =>
    renditionChecks.reduce((a, x) => a + f(x), 0);
  const machine = machineLines();
  const redisVersion = /v=(\S+)/.exec(tryRun('redis-server', ['--version']))?.[1] ?? '?';
  const commit = tryRun('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['-C', REPO_ROOT, 'status', '--porcelain']).length > 0;
  const preset =
    P.label ||
    (P.mediaHours === 24 &&
    P.speed === 30 &&
    P.dumps === 3 &&
    P.killEveryS === 180 &&
    P.restart === 'after-takeover'
      ? 'default (a simulated day)'
      : 'custom');
  const verdict = problems.length === 0 ? 'PASS' : `FAIL (${problems.length} problems)`;
  const workerSamples = incarnations.filter((i) => i.samples > 0);
  const lines: string[] = [];
  const row = (...cells: (string | number)[]): void => void lines.push(`| ${cells.join(' | ')} |`);
  lines.push(
    `## ${new Date(startedMs).toISOString().replace(/\.\d+Z$/, 'Z')} — ${preset}: ${verdict}`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores || cpus().length} cores, ${machine.memoryGiB || Math.round(totalmem() / 2 ** 30)} GiB, ${machine.os} (Linux ${release()}), Node ${process.version}, redis-server ${redisVersion}; commit ${commit || '?'}${dirty ? ' + uncommitted changes' : ''}.`,
    '',
    `Parameters: \`SOAK_MEDIA_HOURS=${P.mediaHours} SOAK_SPEED=${P.speed} SOAK_DUMPS=${P.dumps} SOAK_WORKERS=${P.workers} SOAK_KILL_EVERY_S=${P.killEveryS} SOAK_RESTART=${P.restart} SOAK_SEED=${P.seed}\`` +
      ` — origin window ${P.windowSegments} segments of ${SEGMENT_S} s (${fmt((P.windowSegments * SEGMENT_S) / P.speed, 1)} real s; failover budget ${P.failoverBudgetS} s × 2),` +
      ` 3 renditions per stream (video_0, video_1, audio_0), LL-HLS, workers with LOCK_DURATION_MS=${WORKER_ENV.LOCK_DURATION_MS} STALLED_INTERVAL_MS=${WORKER_ENV.STALLED_INTERVAL_MS} HEARTBEAT_MS=${WORKER_ENV.HEARTBEAT_MS};` +
      ` a kill every ${P.killEveryS * 0.5}–${P.killEveryS * 1.5} real s among workers that own dumps; bytes compared for ${P.bytesEvery === 1 ? 'every segment' : `every ${P.bytesEvery}th segment and every segment around a kill`}.`,
    '',
    '| Run | |',
    '| --- | --- |',
  );
  row(
    'media time simulated',
    `${hms(mediaAtStopS)} (${fmt(mediaAtStopS / 3600, 2)} h of ${P.mediaHours} h)`,
  );
  row(
    'real time (start → all stopped)',
    `${hms(realS)} (planned ${hms(PLANNED_REAL_S)})${deadlineHit ? ' — DEADLINE HIT' : ''}`,
  );
  row(
    'dumps',
    `${P.dumps} started, ${soaked.filter((d) => d.final?.status === 'Completed').length} Completed, stops answered ${soaked.map((d) => d.stopStatus).join('/')} in ${soaked.map((d) => secs(d.stopMs)).join('/')} s`,
  );
  row(
    'kills (SIGKILL)',
    `${kills.length}, moving ${kills.reduce((a, k) => a + k.dumps.length, 0)} dumps; ${incomplete.length} without a takeover`,
  );
  row(
    'failover (kill → another owner Running)',
    failovers.length
      ? `min ${secs(Math.min(...failovers))} s, p50 ${secs(percentile(failovers, 50))} s, max ${secs(Math.max(...failovers))} s`
      : '–',
  );
  row(
    'back at the live edge (kill → ≤ 2 segments behind)',
    catchUps.length
      ? `p50 ${secs(percentile(catchUps, 50))} s, max ${secs(Math.max(...catchUps))} s`
      : '–',
  );
  row(
    'lag behind the origin edge, segments (steady / all samples)',
    `p50 ${fmt(percentile(steadyLags, 50))}, p99 ${fmt(percentile(steadyLags, 99))}, max ${fmt(steadyLags.length ? Math.max(...steadyLags) : undefined)} / max ${fmt(allLags.length ? Math.max(...allLags) : undefined)}`,
  );
  row('segments expected vs written', `${sum((x) => x.expected)} vs ${sum((x) => x.written)}`);
  row(
    'missing MSNs in chunklists / gaps in status',
    `${sum((x) => x.missing)} / ${sum((x) => x.statusGaps ?? 0)}`,
  );
  row('duplicates / out of order', `${sum((x) => x.duplicates)} / ${sum((x) => x.outOfOrder)}`);
  row(
    'segments byte-compared with the origin / differing',
    `${sum((x) => x.bytesChecked)} / ${sum((x) => x.bytesBad)}`,
  );
  const bytesWritten = soaked.reduce(
    (a, d) => a + (d.final?.renditions ?? []).reduce((b, r) => b + r.bytes, 0),
    0,
  );
  row(
    'bytes written (status)',
    `${fmt(bytesWritten / 2 ** 30, 2)} GiB (${fmt(bytesWritten / 2 ** 20 / P.dumps / (mediaAtStopS / 3600), 0)} MiB per dump per media hour)`,
  );
  row('origin requests', `${requestsSeen} (${fmt(requestsSeen / realS, 0)}/s)`);
  row(
    'CPU: workers / gateway / soak process (origin + checks)',
    `${fmt(
      incarnations.reduce((a, i) => a + i.cpuS, 0),
      0,
    )} s / ${fmt(gatewayMem.cpuS, 0)} s / ${fmt((testCpu.user + testCpu.system) / 1e6, 0)} s over ${fmt(realS, 0)} s real`,
  );
  row(
    'peak RSS: gateway / soak process',
    `${mib(gatewayMem.hwmKb)} MiB / ${mib(selfMem.rssMaxKb)} MiB`,
  );
  lines.push('', '**Per dump and rendition**', '');
  lines.push(
    '| dump | rendition | first–last MSN | expected | written | missing | status gaps | dup | discont. | bytes checked / bad | behind edge at stop |',
  );
  lines.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
  for (const x of renditionChecks)
    row(
      x.dump,
      x.rendition,
      `${x.first ?? '–'}–${x.last ?? '–'}`,
      x.expected,
      x.written,
      x.missing,
      x.statusGaps ?? '–',
      x.duplicates,
      x.discontinuities,
      `${x.bytesChecked} / ${x.bytesBad}`,
      x.behindEdgeAtStop ?? '–',
    );
  lines.push('', '**Per dump: infoFile and owners**', '');
  lines.push(
    '| dump | infoFile status | Items | Seq 0..n-1 | Items of missing files | files not listed (of them temp files) | segment Items twice | owners seen | lag p50 / max (segments) |',
  );
  lines.push('| --- | --- | ---: | --- | ---: | ---: | ---: | --- | --- |');
  for (const i of infoChecks) {
    const d = soaked.find((x) => x.dump.stream === i.dump)!;
    row(
      i.dump,
      i.status,
      i.items,
      i.seqContinuous ? 'yes' : 'NO',
      i.missingFiles,
      `${i.unlisted.length} (${i.unlisted.filter((f) => TEMP_FILE.test(f)).length})`,
      i.segmentItemsTwice,
      [...d.owners].sort().join(', '),
      `${fmt(percentile(d.lags, 50))} / ${fmt(d.lags.length ? Math.max(...d.lags) : undefined)}`,
    );
  }
  lines.push('', '**Kills**', '');
  lines.push(
    '| # | real time | media time | killed | its dumps | failover per dump (s) | new owner | back at edge (s) | worker back after (s) |',
  );
  lines.push('| ---: | --- | --- | --- | --- | --- | --- | --- | ---: |');
  for (const k of kills)
    row(
      k.n,
      hms((k.atMs - startedMs) / 1000),
      hms(k.atMediaS),
      `${k.worker}#${k.incarnation}`,
      k.dumps.join(', '),
      k.dumps.map((s) => secs(k.failoverMs[s])).join(', '),
      k.dumps.map((s) => k.newOwner[s] ?? '–').join(', '),
      k.dumps.map((s) => secs(k.catchUpMs[s])).join(', '),
      secs(k.restartMs),
    );
  lines.push(
    '',
    '**Worker memory per incarnation** (VmRSS sampled every ' + P.sampleS + ' s; peak = VmHWM)',
    '',
  );
  lines.push(
    '| worker | incarnation | pid | lived | ended | max dumps held | RSS first / last / max (MiB) | peak VmHWM (MiB) | CPU s |',
  );
  lines.push('| --- | ---: | ---: | --- | --- | ---: | --- | ---: | ---: |');
  for (const i of workerSamples)
    row(
      i.worker,
      i.n,
      i.pid,
      hms(((i.endedMs ?? Date.now()) - i.startedMs) / 1000),
      i.killed ? 'SIGKILL' : 'end of run',
      i.dumpsMax,
      `${mib(i.rssFirstKb)} / ${mib(i.rssLastKb)} / ${mib(i.rssMaxKb)}`,
      mib(i.hwmKb),
      fmt(i.cpuS, 0),
    );
  lines.push(
    '',
    `**Memory over the run** (per worker: incarnation, dumps held, RSS / ${USE_HEAP_PROBE ? 'live heap after a full GC' : 'live heap (not probed)'} in MiB)`,
    '',
  );
  lines.push(`| media time | real time | ${c.workers.map((w) => w.id).join(' | ')} |`);
  lines.push(`| --- | --- | ${c.workers.map(() => '---').join(' | ')} |`);
  for (const t of timeline)
    row(
      hms(t.mediaS),
      hms(t.realS),
      ...c.workers.map((w) => {
        const cell = t.cells[w.id];
        return cell
          ? `#${cell.n}, ${cell.dumps} dumps: ${mib(cell.rssKb)} / ${mib(cell.heapKb)}`
          : '(restarting)';
      }),
    );
  lines.push('', '**Peak memory per worker (any incarnation)**', '');
  lines.push('| worker | incarnations | peak VmHWM (MiB) | longest life |');
  lines.push('| --- | ---: | ---: | --- |');
  for (const w of c.workers) {
    const mine = workerSamples.filter((i) => i.worker === w.id);
    row(
      w.id,
      mine.length,
      mib(Math.max(...mine.map((i) => i.hwmKb))),
      hms(Math.max(...mine.map((i) => ((i.endedMs ?? Date.now()) - i.startedMs) / 1000))),
    );
  }
  if (warnings.size > 0) {
    lines.push('', '**Warnings and errors logged**', '');
    lines.push('| process / level: message | count |');
    lines.push('| --- | ---: |');
    for (const [k, v] of [...warnings].sort((a, b) => b[1] - a[1])) row(k, v);
  }
  lines.push('', problems.length === 0 ? '**Problems: none.**' : '**Problems**', '');
  for (const p of problems) lines.push(`- ${p}`);
  lines.push(
    '',
    `Logs of every process: \`${logDir}\`${P.keep || problems.length > 0 ? `; dumps kept in \`${outDir}\`` : ' (dumps removed)'}.`,
    '',
    '',
  );
  const section = lines.join('\n');
  return section;
}

function tryRun(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}
