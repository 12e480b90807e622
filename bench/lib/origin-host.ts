// Starts bench/lib/origin-process.mjs and talks to it over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./origin-process.mjs', import.meta.url));

export async function startOriginProcess({ speed = 1, logFile } = {}) {
  const child = fork(script, ['--speed', String(speed)], {
    stdio: ['ignore', 'ignore', logFile ? 'pipe' : 'inherit', 'ipc'],
  });
  if (logFile) child.stderr.pipe(logFile);
  let nextId = 1;
  const pending = new Map();
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('origin process did not start in 20 s')),
      20_000,
    );
    child.on('message', (message) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.url);
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
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
  const url = await ready;
  const call = (op, args = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, op, ...args });
    });
  return {
    url,
    pid: child.pid,
    call,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await call('close').catch(() => {});
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
