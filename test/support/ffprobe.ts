import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbeResult {
  durationSeconds: number;
  streams: { codec_type: string; codec_name: string }[];
}

/** What ffprobe makes of a file or playlist: proof that a dump plays, not just that files exist. */
export async function ffprobe(path: string): Promise<ProbeResult> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'format=duration:stream=codec_type,codec_name',
      '-of',
      'json',
      path,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const parsed = JSON.parse(stdout) as {
    format?: { duration?: string };
    streams?: { codec_type: string; codec_name: string }[];
  };
  return { durationSeconds: Number(parsed.format?.duration ?? NaN), streams: parsed.streams ?? [] };
}

/** Decodes every frame of a playlist; rejects on a decoding error (a broken or torn segment). */
export async function ffmpegDecodes(path: string): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-xerror', '-i', path, '-f', 'null', '-'], {
    maxBuffer: 16 * 1024 * 1024,
  });
}
