// The limit: the simplest loop that fetches the same segment bytes over loopback and writes them to
// disk (one GET at a time, keep-alive, body piped to a file). Forked by the limit phase; reports its
// own CPU (process.cpuUsage) and wall time over IPC.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** What the loop is given, and what it reports. */
export interface SimpleCopyJob {
  urls: string[];
  seconds: number;
  dir: string;
}

export interface SimpleCopyReport {
  bytes: number;
  files: number;
  misses: number;
  cpuS: number;
  wallS: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function copy(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve(0);
          return;
        }
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        pipeline(res, createWriteStream(path)).then(() => resolve(bytes), reject);
      })
      .on('error', reject);
  });
}

async function copyAll({ urls, seconds, dir }: SimpleCopyJob): Promise<void> {
  await mkdir(dir, { recursive: true });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let bytes = 0;
  let files = 0;
  let misses = 0;
  // Bounded: stops at the deadline, and never more than 10 million requests.
  for (let i = 0; performance.now() < deadline && i < 10_000_000; i++) {
    const n = await copy(urls[i % urls.length]!, join(dir, `f${i % 1000}.m4s`));
    if (n > 0) {
      bytes += n;
      files++;
    } else misses++;
  }
  const cpu = process.cpuUsage(cpu0);
  const report: SimpleCopyReport = {
    bytes,
    files,
    misses,
    cpuS: (cpu.user + cpu.system) / 1e6,
    wallS: (performance.now() - t0) / 1000,
  };
  process.send!(report);
  agent.destroy();
  process.disconnect!();
}

process.once('message', (job: SimpleCopyJob) => {
  copyAll(job).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
