import { spawn } from 'node:child_process';

/**
 * What `ffmpeg -v error -i <master> -f null -` prints: decoding every stream of a playlist to
 * nothing, only errors shown. Empty means the copy decodes cleanly. `inputOptions` go before -i.
 */
export function ffmpegDecodeErrors(master: string, inputOptions: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ffmpeg',
      ['-nostdin', '-v', 'error', ...inputOptions, '-i', master, '-f', 'null', '-'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve(code === 0 ? output : `${output}(exit ${code})`));
  });
}
