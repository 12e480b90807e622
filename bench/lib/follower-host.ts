// Starts bench/lib/live-follower.ts processes and talks to them over IPC; finds the renditions a
// stream's master lists for them to follow.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseMasterPlaylist } from '@hlsdump/hls-client';
import type { FollowMode } from './follow-modes.ts';

const script = fileURLToPath(new URL('./live-follower.ts', import.meta.url));

export interface Follower {
  mode: FollowMode;
  child: ChildProcess;
  /** Starts following these media playlists; `dir` is where the copy mode writes. */
  follow(urls: string[], dir: string): Promise<void>;
  /** Blocking reloads answered, and failed requests, since the start. */
  count(): Promise<{ reloads: number; failures: number }>;
  stop(): void;
}

export async function startFollower(
  mode: FollowMode,
  nodeFlags: readonly string[],
): Promise<Follower> {
  const child = fork(script, ['--mode', mode], {
    execArgv: [...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }[] =
    [];
  child.on('message', (message: Record<string, unknown>) => waiting.shift()?.resolve(message));
  child.once('exit', (code) => {
    for (const waiter of waiting.splice(0)) {
      waiter.reject(new Error(`the ${mode} follower exited with ${code}`));
    }
  });
  // Its first message says it is ready; after that each message sent is answered once, in order.
  const reply = (): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ask = (message: object): Promise<Record<string, unknown>> => {
    const answer = reply();
    child.send(message);
    return answer;
  };
  await reply();
  return {
    mode,
    child,
    async follow(urls, dir) {
      await ask({ op: 'follow', urls, dir });
    },
    async count() {
      const { reloads, failures } = await ask({ op: 'count' });
      return { reloads: reloads as number, failures: failures as number };
    },
    stop() {
      if (child.exitCode === null) child.kill();
    },
  };
}

/** The media playlists a master lists (variants and EXT-X-MEDIA renditions), as absolute URLs. */
export async function renditionUrls(masterUrl: string): Promise<string[]> {
  const master = parseMasterPlaylist(await (await fetch(masterUrl)).text(), masterUrl);
  return [
    ...master.variants.map((variant) => variant.uri),
    ...master.media.flatMap((media) => (media.uri === undefined ? [] : [media.uri])),
  ];
}
