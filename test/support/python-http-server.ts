import { spawn } from 'node:child_process';

export interface PythonHttpServer {
  /** e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  /** The server's request log so far (one line per request). */
  log(): string;
  close(): Promise<void>;
}

/**
 * `python3 -m http.server` serving `dir`: HTTP/1.0, one connection per request, closed by the
 * server after each response. Port 0: the server picks one and prints it.
 */
export async function startPythonHttpServer(dir: string): Promise<PythonHttpServer> {
  const child = spawn(
    'python3',
    ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-200_000);
      const match = /Serving HTTP on \S+ port (\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`python3 -m http.server exited (${code}): ${output}`)),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => output,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
