import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.ts';

/** One rung of the ladder: a video rendition at a constant bitrate. */
export interface LadderRung {
  name: string;
  width: number;
  height: number;
  kbps: number;
}

/** 1080p 6 Mbit/s, 720p 3 Mbit/s, 480p 1.5 Mbit/s: a broadcaster's usual ladder. */
export const REAL_LADDER: readonly LadderRung[] = [
  { name: '1080p', width: 1920, height: 1080, kbps: 6000 },
  { name: '720p', width: 1280, height: 720, kbps: 3000 },
  { name: '480p', width: 854, height: 480, kbps: 1500 },
];
export const LADDER_AUDIO = { name: 'audio', kbps: 128 };

const SOURCE_SECONDS = 12;
const FPS = 30;

/**
 * The ladder encoded once (x264 CBR with filler, so each rendition really carries its bitrate;
 * AAC audio), kept in the temp dir across runs: the live origin then only remuxes it, which costs
 * little CPU on a small machine.
 */
export async function ladderSource(segmentSeconds: number): Promise<string> {
  const path = join(tmpdir(), `hlsdump-ladder-${SOURCE_SECONDS}s-gop${segmentSeconds}s-v1.mkv`);
  if (existsSync(path)) return path;
  const rungs = REAL_LADDER;
  const split = `[0:v]split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join('')};${rungs
    .map((r, i) => `[s${i}]scale=${r.width}:${r.height}[v${i}]`)
    .join(';')}`;
  const partial = `${path}.partial.mkv`;
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${FPS}`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-t', String(SOURCE_SECONDS), '-filter_complex', split],
    ...rungs.flatMap((_, i) => ['-map', `[v${i}]`]),
    ...['-map', '1:a'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-bf', '0'],
    // A keyframe at every segment boundary: the HLS muxer cuts there.
    ...['-g', String(FPS * segmentSeconds), '-keyint_min', String(FPS * segmentSeconds)],
    ...['-sc_threshold', '0', '-x264-params', 'nal-hrd=cbr'],
    ...rungs.flatMap((r, i) => [
      `-b:v:${i}`,
      `${r.kbps}k`,
      `-minrate:v:${i}`,
      `${r.kbps}k`,
      `-maxrate:v:${i}`,
      `${r.kbps}k`,
      `-bufsize:v:${i}`,
      `${r.kbps / 2}k`,
    ]),
    ...['-c:a', 'aac', '-b:a', `${LADDER_AUDIO.kbps}k`],
    partial,
  ]);
  await rename(partial, path);
  return path;
}

export interface LadderOrigin {
  /** The folder an HTTP server serves; the stream is `<root>/<app>/<stream>/`. */
  readonly root: string;
  readonly streamDir: string;
  readonly masterPlaylist: string;
  /** Media playlist file names: the video rungs, then the audio. */
  readonly mediaPlaylists: readonly string[];
  readonly ffmpeg: ChildProcess;
  close(): Promise<void>;
}

export interface LadderOriginOptions {
  app: string;
  stream: string;
  segmentType: 'fmp4' | 'mpegts';
  segmentSeconds: number;
}

/**
 * ffmpeg's HLS muxer, live (-re), looping the pre-encoded ladder with -c copy: a master playlist
 * with every video rung in one audio group, 2 s segments, old ones deleted as live origins do.
 */
export async function startLadderOrigin(options: LadderOriginOptions): Promise<LadderOrigin> {
  const source = await ladderSource(options.segmentSeconds);
  const root = join(tmpdir(), `hlsdump-ladder-origin-${process.pid}-${Date.now()}`);
  const streamDir = join(root, options.app, options.stream);
  await mkdir(streamDir, { recursive: true });
  // nginx's worker may run as another user.
  for (const dir of [root, join(root, options.app), streamDir]) await chmod(dir, 0o755);
  const fmp4 = options.segmentType === 'fmp4';
  const names = [...REAL_LADDER.map((r) => r.name), LADDER_AUDIO.name];
  const varStreamMap = [
    ...REAL_LADDER.map((r, i) => `v:${i},agroup:aud,name:${r.name}`),
    `a:0,agroup:aud,name:${LADDER_AUDIO.name},default:yes`,
  ].join(' ');
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
      ...['-stream_loop', '-1', '-re', '-i', source],
      ...REAL_LADDER.flatMap((_, i) => ['-map', `0:v:${i}`]),
      ...['-map', '0:a:0', '-c', 'copy'],
      // Copied streams carry no bitrate; the master playlist's BANDWIDTH needs one.
      ...REAL_LADDER.flatMap((r, i) => [`-b:v:${i}`, `${r.kbps}k`]),
      ...['-b:a:0', `${LADDER_AUDIO.kbps}k`],
      ...['-f', 'hls', '-hls_time', String(options.segmentSeconds), '-hls_list_size', '6'],
      ...['-hls_flags', 'delete_segments+independent_segments+program_date_time'],
      ...(fmp4 ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
      ...['-var_stream_map', varStreamMap, '-master_pl_name', 'master.m3u8'],
      ...['-hls_segment_filename', join(streamDir, `%v_%05d.${fmp4 ? 'm4s' : 'ts'}`)],
      join(streamDir, '%v.m3u8'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => ffmpeg.once('close', () => resolve()));
  const close = async (): Promise<void> => {
    if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) {
      ffmpeg.kill('SIGTERM');
      const killer = setTimeout(() => ffmpeg.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
    await rm(root, { recursive: true, force: true });
  };
  const mediaPlaylists = names.map((n) => `${n}.m3u8`);
  try {
    await waitFor(
      'the ladder origin to list two segments on every rendition',
      async () => {
        if (ffmpeg.exitCode !== null) throw new Error(`ffmpeg exited: ${stderr}`);
        for (const name of mediaPlaylists) {
          const text = await readFile(join(streamDir, name), 'utf8').catch(() => '');
          if ((text.match(/^#EXTINF:/gm) ?? []).length < 2) return false;
        }
        return existsSync(join(streamDir, 'master.m3u8'));
      },
      { timeoutMs: 60_000, details: () => stderr },
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { root, streamDir, masterPlaylist: 'master.m3u8', mediaPlaylists, ffmpeg, close };
}

/**
 * Keeps every file the origin lists (segments, init segments) as a hard link in `archiveDir`, so a
 * copy can be compared with all of them after ffmpeg deleted the old ones. A listed file is
 * complete; the link shares its bytes and costs no copy. Returns a function that stops it.
 */
export function archiveListedFiles(
  origin: LadderOrigin,
  archiveDir: string,
  intervalMs = 500,
): () => Promise<void> {
  const linked = new Set<string>();
  let running: Promise<void> = Promise.resolve();
  const scan = async (): Promise<void> => {
    await mkdir(archiveDir, { recursive: true });
    for (const playlist of origin.mediaPlaylists) {
      const text = await readFile(join(origin.streamDir, playlist), 'utf8').catch(() => '');
      const names = [
        ...text.split('\n').filter((line) => line !== '' && !line.startsWith('#')),
        ...[...text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!),
      ];
      for (const name of names) {
        if (linked.has(name)) continue;
        // Gone already (deleted before this scan): the comparison will say it is missing.
        await link(join(origin.streamDir, name), join(archiveDir, name)).then(
          () => linked.add(name),
          () => undefined,
        );
      }
    }
  };
  const timer = setInterval(() => {
    running = running.then(scan);
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
    await scan();
  };
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr
      .setEncoding('utf8')
      .on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr}`)),
    );
  });
}
