// ffmpeg peers: the tool operators record with today, on the same streams as hlsdump in the same
// window, so that the two CPU figures come from one run.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchRun } from '../bench-run.ts';
import { masterUrlOf, type OriginHost } from './origin-host.ts';

export type Peer = ChildProcess & { stream: string; stderrTail(): string };

/** One ffmpeg per stream, every rendition copied (-map 0 -c copy) into MPEG-TS, as operators do. */
export async function startFfmpegPeers(
  run: Pick<BenchRun, 'dir' | 'ffmpeg'>,
  origin: OriginHost,
  streams: string[],
): Promise<Peer[]> {
  const dir = join(run.dir, 'ffmpeg');
  await mkdir(dir, { recursive: true });
  return streams.map((stream) => {
    const url = masterUrlOf(origin, stream);
    const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', url];
    args.push('-map', '0', '-c', 'copy', '-f', 'mpegts', '-y', join(dir, `${stream}.ts`));
    const child = spawn('/usr/bin/ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    run.ffmpeg.push(child);
    return Object.assign(child, { stream, stderrTail: () => stderr });
  });
}

export async function stopFfmpegPeers(
  run: Pick<BenchRun, 'dir' | 'ffmpeg'>,
  peers: Peer[],
): Promise<Record<string, number>> {
  const outcomes = await Promise.all(
    peers.map(async (p) => {
      if (p.exitCode !== null)
        return `exited early (${p.exitCode}): ${p.stderrTail().trim().slice(-200)}`;
      const exited = once(p, 'exit') as Promise<[number | null, string | null]>;
      p.kill('SIGINT');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      const [code, signal] = await exited;
      clearTimeout(timer);
      return signal ?? String(code);
    }),
  );
  for (const p of peers) run.ffmpeg.splice(run.ffmpeg.indexOf(p), 1);
  const tally: Record<string, number> = {};
  for (const o of outcomes) tally[o] = (tally[o] ?? 0) + 1;
  return tally;
}
