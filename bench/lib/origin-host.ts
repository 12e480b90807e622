// Starts bench/lib/origin-process.ts and talks to it over IPC.
import { fork } from 'node:child_process';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { OriginOps } from './origin-process.ts';

const script = fileURLToPath(new URL('./origin-process.ts', import.meta.url));

type Reply = { type?: 'ready'; url?: string; id?: number; result?: unknown; error?: string };

export interface OriginHost {
  url: string;
  pid: number;
  /** Runs one of the origin process's operations (see origin-process.ts) and returns its result. */
  call<K extends keyof OriginOps>(
    op: K,
    args: Parameters<OriginOps[K]>[0],
  ): Promise<Awaited<ReturnType<OriginOps[K]>>>;
  close(): Promise<void>;
}

/** A stream's master playlist on the bench's origin (app `app`, as every phase adds them). */
export function masterUrlOf(origin: Pick<OriginHost, 'url'>, stream: string): string {
  return `${origin.url}/app/${stream}/llhls.m3u8`;
}

export async function startOriginProcess({
  speed = 1,
  logFile,
}: { speed?: number; logFile?: Writable } = {}): Promise<OriginHost> {
  const child = fork(script, ['--speed', String(speed)], {
    stdio: ['ignore', 'ignore', logFile ? 'pipe' : 'inherit', 'ipc'],
  });
  if (logFile) child.stderr?.pipe(logFile);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('origin process did not start in 20 s')),
      20_000,
    );
    child.on('message', (message: Reply) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.url!);
        return;
      }
      const waiter = pending.get(message.id!);
      if (!waiter) return;
      pending.delete(message.id!);
      if (message.error) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`origin process exited with ${code}`));
      for (const waiter of pending.values()) waiter.reject(new Error('origin process exited'));
      pending.clear();
    });
  });
  const call = (op: string, args: object = {}): Promise<never> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, op, ...args });
    });
  return {
    url,
    pid: child.pid!,
    call: call as OriginHost['call'],
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child);
      await call('close').catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function once(child: ReturnType<typeof fork>): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
