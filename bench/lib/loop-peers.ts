// Loop peers: the simplest live copy in Node (live-follower.ts, mode `copy`: node:http, a blocking
// reload per segment, each new segment piped to a file of its own) beside the workers, one process
// per worker, each following the renditions of as many streams as a worker records: the CPU a
// worker spends per media-hour set against what the least a Node process could spend on the same
// streams at the same density.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerBuildOf } from './worker-build.ts';
import { renditionUrls, startFollower, type Follower } from './follower-host.ts';
import { masterUrlOf, type OriginHost } from './origin-host.ts';

export async function startLoopPeers(
  run: { dir: string; children: ChildProcess[] },
  origin: OriginHost,
  streams: string[],
  processes: number,
): Promise<Follower[]> {
  // This tree's worker's shipped Node flags: the loop runs as the worker would.
  const { nodeFlags } = await workerBuildOf(fileURLToPath(new URL('../..', import.meta.url)));
  const shares: string[][] = Array.from({ length: processes }, () => []);
  const urls = await Promise.all(
    streams.map((stream) => renditionUrls(masterUrlOf(origin, stream))),
  );
  urls.forEach((streamUrls, i) => shares[i % processes]!.push(...streamUrls));
  const loops: Follower[] = [];
  for (const [i, share] of shares.entries()) {
    if (share.length === 0) continue;
    const loop = await startFollower('copy', nodeFlags);
    run.children.push(loop.child);
    await loop.follow(share, join(run.dir, `loop-${i}`));
    loops.push(loop);
  }
  return loops;
}

export function stopLoopPeers(run: { children: ChildProcess[] }, loops: Follower[]): void {
  for (const loop of loops) {
    loop.stop();
    run.children.splice(run.children.indexOf(loop.child), 1);
  }
}
