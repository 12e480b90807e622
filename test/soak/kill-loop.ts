import type { ClusterWorker, DumpStatusBody } from '../support/cluster.js';
import { fmt, hms, secs, sleep } from './soak-format.js';
import { LOOP_DEADLINE_S, MEDIA_S, P } from './soak-params.js';
import { edge, lagOf, renditionIds, soakedStatus, type Soaked, type SoakRun } from './soak-run.js';
import type { SoakSampler } from './soak-sampler.js';

/** One SIGKILL of a worker that owned dumps, and how its dumps fared. */
export interface Kill {
  n: number;
  atMs: number;
  atMediaS: number;
  worker: string;
  incarnation: number;
  dumps: string[];
  /** Per moved dump: ms from the SIGKILL to another owner reporting Running. */
  failoverMs: Record<string, number | undefined>;
  newOwner: Record<string, string | undefined>;
  /** Per moved dump: ms from the SIGKILL until the dump is back within 2 segments of the edge. */
  catchUpMs: Record<string, number | undefined>;
  /** The highest MSN the dump had reported when it was killed, and the origin's edge at takeover. */
  msnAtKill: Record<string, number>;
  edgeAtTakeover: Record<string, number>;
  restartMs?: number;
}

/**
 * Until the simulated time is over (or the hard deadline passes): every P.killEveryS seconds on
 * average, SIGKILLs a random worker that owns running dumps and watches its dumps fail over.
 */
export async function runKillLoop(
  run: SoakRun,
  sampler: SoakSampler,
  random: () => number,
): Promise<{ kills: Kill[]; deadlineHit: boolean }> {
  const { cluster, soaked, startedMs, mediaElapsed, note, problems } = run;
  const kills: Kill[] = [];
  const deadlineMs = startedMs + LOOP_DEADLINE_S * 1000;
  let deadlineHit = false;
  const nextKillDelayMs = (): number => P.killEveryS * 1000 * (0.5 + random());
  let nextKillAt = Date.now() + nextKillDelayMs();
  let lastProgress = 0;
  const realLeftS = (): number => (MEDIA_S - mediaElapsed()) / P.speed;

  while (mediaElapsed() < MEDIA_S) {
    if (Date.now() > deadlineMs) {
      deadlineHit = true;
      problems.push(
        `hard deadline hit after ${hms((Date.now() - startedMs) / 1000)} real, ${hms(mediaElapsed())} media`,
      );
      break;
    }
    if (Date.now() - lastProgress > 60_000) {
      lastProgress = Date.now();
      const lags = soaked.map((d) => {
        const s = sampler.latest.get(d.dump.outputStreamName);
        return `${d.dump.stream}@${s?.owner ?? '?'}:${s?.status ?? '?'} lag ${fmt(d.lags.at(-1))} gaps ${s?.gaps ?? '?'}`;
      });
      note(
        `media ${hms(mediaElapsed())} / ${hms(MEDIA_S)}, real ${hms((Date.now() - startedMs) / 1000)}, kills ${kills.length}; ${lags.join('; ')}`,
      );
    }
    // No kill so close to the end that its failover would overlap the stop.
    if (Date.now() < nextKillAt || realLeftS() < 45) {
      await sleep(Math.min(1000, Math.max(50, nextKillAt - Date.now())));
      continue;
    }
    const statuses = await Promise.all(
      soaked.map(async (d) => ({ d, s: await soakedStatus(cluster, d) })),
    );
    const byOwner = new Map<string, Soaked[]>();
    for (const { d, s } of statuses)
      if (s?.owner && s.status === 'Running')
        byOwner.set(s.owner, [...(byOwner.get(s.owner) ?? []), d]);
    const candidates = cluster.workers.filter((w) => w.running && byOwner.has(w.id));
    if (candidates.length === 0) {
      note('no worker owns a running dump right now; next kill in 5 s');
      nextKillAt = Date.now() + 5000;
      continue;
    }
    const victim = candidates[Math.floor(random() * candidates.length)]!;
    const moved = byOwner.get(victim.id)!;
    const kill: Kill = {
      n: kills.length + 1,
      atMs: 0,
      atMediaS: mediaElapsed(),
      worker: victim.id,
      incarnation: run.incarnations.of(victim.id)!.n,
      dumps: moved.map((d) => d.dump.stream),
      failoverMs: {},
      newOwner: {},
      catchUpMs: {},
      msnAtKill: {},
      edgeAtTakeover: {},
    };
    for (const { d, s } of statuses)
      if (moved.includes(d) && s)
        kill.msnAtKill[d.dump.stream] = Math.max(...s.renditions.map((r) => r.lastSequence ?? -1));
    kills.push(kill);
    sampler.quietSinceMs = Number.POSITIVE_INFINITY;
    await killAndWatchFailover(run, kill, victim, moved);
    sampler.quietSinceMs = Date.now() + 5000;
    nextKillAt = Date.now() + nextKillDelayMs();
  }
  return { kills, deadlineHit };
}

/**
 * SIGKILLs the victim, then watches each of its dumps until a new run reports Running (another
 * owner, or with SOAK_RESTART=immediate possibly the victim's id again) and is back at the live
 * edge, for 90 s at most; the victim is restarted once its dumps run elsewhere (or at once).
 */
async function killAndWatchFailover(
  run: SoakRun,
  kill: Kill,
  victim: ClusterWorker,
  moved: Soaked[],
): Promise<void> {
  const { cluster, incarnations, note, problems } = run;
  const inc = incarnations.of(victim.id)!;
  incarnations.sample(inc);
  kill.atMs = Date.now();
  await victim.kill('SIGKILL');
  inc.endedMs = Date.now();
  inc.killed = true;
  note(
    `kill #${kill.n}: SIGKILL ${victim.id}#${inc.n} (pid ${inc.pid}) owning ${kill.dumps.join(', ')}`,
  );

  const pending = new Set(moved);
  const catching = new Set<Soaked>();
  const watchUntil = kill.atMs + 90_000;
  const restart = async (): Promise<void> => {
    const t = Date.now();
    await victim.restart();
    await cluster.workerReady(victim);
    incarnations.open(victim);
    kill.restartMs = Date.now() - t;
  };
  let restarted: Promise<void> | undefined = P.restart === 'immediate' ? restart() : undefined;
  const rerun = (s: DumpStatusBody): boolean => {
    const runningAt = Date.parse((s as { runningAt?: string }).runningAt ?? '');
    return (
      s.status === 'Running' &&
      runningAt >= kill.atMs &&
      (P.restart === 'immediate' || (s.owner !== undefined && s.owner !== victim.id))
    );
  };
  while ((pending.size > 0 || catching.size > 0) && Date.now() < watchUntil) {
    for (const d of [...pending, ...catching]) {
      const s = await soakedStatus(cluster, d);
      if (!s) continue;
      if (pending.has(d) && rerun(s)) {
        kill.failoverMs[d.dump.stream] = Date.now() - kill.atMs;
        kill.newOwner[d.dump.stream] = s.owner;
        kill.edgeAtTakeover[d.dump.stream] = Math.max(
          ...renditionIds(d.stream).map((r) => edge(d.stream, r)),
        );
        pending.delete(d);
        catching.add(d);
      }
      if (catching.has(d)) {
        const lag = lagOf(d, s);
        if (lag !== undefined && lag <= 2) {
          kill.catchUpMs[d.dump.stream] = Date.now() - kill.atMs;
          catching.delete(d);
        }
      }
    }
    // The killed worker comes back as soon as its dumps run elsewhere (so N stay available).
    if (pending.size === 0 && !restarted) restarted = restart();
    await sleep(200);
  }
  for (const d of pending)
    problems.push(
      `kill #${kill.n}: ${d.dump.stream} not running again 90 s after its owner ${victim.id} was killed`,
    );
  for (const d of catching)
    problems.push(
      `kill #${kill.n}: ${d.dump.stream} not back at the live edge 90 s after the kill`,
    );
  restarted ??= restart();
  await restarted.catch((error: unknown) => {
    problems.push(`kill #${kill.n}: ${victim.id} did not come back: ${String(error)}`);
  });
  note(
    `kill #${kill.n}: failover ${kill.dumps.map((s) => `${s}→${kill.newOwner[s] ?? '?'} ${secs(kill.failoverMs[s])} s (live edge ${secs(kill.catchUpMs[s])} s)`).join(', ')}; ${victim.id} back after ${secs(kill.restartMs)} s`,
  );
}
