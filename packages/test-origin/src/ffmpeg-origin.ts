// A live HLS origin the project did not write: ffmpeg's own HLS muxer in real time,
// its output directory served over loopback.
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDirectory } from './static-server.js';

export interface FfmpegLiveOriginOptions {
  readonly segmentType: 'mpegts' | 'fmp4';
  /** -hls_time. Default 1. */
  readonly segmentSeconds?: number;
  /** -hls_list_size. Default 5. */
  readonly listSize?: number;
  /** How long to wait for the first two segments. Default 30000. */
  readonly startTimeoutMs?: number;
  /** Default 'ffmpeg' from PATH. */
  readonly ffmpegPath?: string;
}

/** ffmpeg's live HLS output in a folder, for any HTTP server to serve. */
export interface FfmpegHlsFolder {
  readonly dir: string;
  /** File names in `dir`. */
  readonly mediaPlaylist: string;
  readonly masterPlaylist: string;
  /** Stops ffmpeg and removes the folder. */
  close(): Promise<void>;
}

export interface FfmpegLiveOrigin {
  /** The media playlist. */
  readonly url: string;
  /** The multivariant playlist ffmpeg writes next to it (-master_pl_name). */
  readonly masterUrl: string;
  readonly dir: string;
  close(): Promise<void>;
}

const MEDIA_PLAYLIST = 'stream.m3u8';
const MASTER_PLAYLIST = 'master.m3u8';

export async function startFfmpegLiveOrigin(
  options: FfmpegLiveOriginOptions,
): Promise<FfmpegLiveOrigin> {
  const folder = await startFfmpegHlsFolder(options);
  const served = await serveDirectory(folder.dir).catch(async (error: unknown) => {
    await folder.close();
    throw error;
  });
  return {
    url: `${served.url}/${MEDIA_PLAYLIST}`,
    masterUrl: `${served.url}/${MASTER_PLAYLIST}`,
    dir: folder.dir,
    async close() {
      await served.close();
      await folder.close();
    },
  };
}

/** Runs ffmpeg's HLS muxer in real time into a fresh folder; resolves once it lists two segments. */
export async function startFfmpegHlsFolder(
  options: FfmpegLiveOriginOptions,
): Promise<FfmpegHlsFolder> {
  const segmentSeconds = options.segmentSeconds ?? 1;
  const listSize = options.listSize ?? 5;
  const dir = await mkdtemp(join(tmpdir(), 'hlsdump-ffmpeg-origin-'));
  const fmp4 = options.segmentType === 'fmp4';
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30'],
    ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-map', '0:v', '-map', '1:a'],
    ...[
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-pix_fmt',
      'yuv420p',
      '-b:v',
      '300k',
    ],
    // A keyframe every second lets the muxer cut at every -hls_time boundary.
    ...['-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0'],
    ...['-c:a', 'aac', '-b:a', '64k', '-ac', '1'],
    ...['-f', 'hls', '-hls_time', String(segmentSeconds), '-hls_list_size', String(listSize)],
    ...['-hls_flags', 'delete_segments+program_date_time+independent_segments'],
    ...(fmp4 ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
    ...['-master_pl_name', MASTER_PLAYLIST],
    ...['-hls_segment_filename', join(dir, fmp4 ? 'seg_%05d.m4s' : 'seg_%05d.ts')],
    join(dir, MEDIA_PLAYLIST),
  ];
  const ffmpeg = spawn(options.ffmpegPath ?? 'ffmpeg', args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  ffmpeg.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => ffmpeg.once('close', () => resolve()));

  const stop = async (): Promise<void> => {
    if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) {
      ffmpeg.kill('SIGTERM');
      const killer = setTimeout(() => ffmpeg.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForSegments(dir, 2, ffmpeg, () => stderr, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, mediaPlaylist: MEDIA_PLAYLIST, masterPlaylist: MASTER_PLAYLIST, close: stop };
}

/** Resolves when the media playlist lists `count` segments; driven by fs events, not polling. */
function waitForSegments(
  dir: string,
  count: number,
  ffmpeg: ReturnType<typeof spawn>,
  stderr: () => string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      watcher.close();
      clearTimeout(timer);
      ffmpeg.off('close', onExit);
      if (error) reject(error);
      else resolve();
    };
    const check = (): void => {
      readFile(join(dir, MEDIA_PLAYLIST), 'utf8').then(
        (text) => {
          if ((text.match(/^#EXTINF:/gm) ?? []).length >= count) finish();
        },
        () => undefined,
      );
    };
    const onExit = (code: number | null): void =>
      finish(new Error(`ffmpeg exited (${code}) before the playlist was ready: ${stderr()}`));
    const watcher = watch(dir, check);
    const timer = setTimeout(
      () => finish(new Error(`ffmpeg origin not ready after ${timeoutMs} ms: ${stderr()}`)),
      timeoutMs,
    );
    ffmpeg.once('close', onExit);
    check();
  });
}
