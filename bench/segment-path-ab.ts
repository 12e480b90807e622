// CPU of the per-segment write path (name the segment, GET it, stream it to its file) of two
// builds of hlsdump, interleaved in one process so that both see the same machine load: batches
// of one build, then the other, alternating, each measured with process.cpuUsage().
//
//   node bench/segment-path-ab.ts --base /work/wt/base --new . [--bytes 85000] [--rounds 10] [--batch 300]
//
// Each build's `dist` is loaded from its root (build both first). The segments come from a plain
// node:http server in a child process (its CPU is not counted), 64 KiB writes, keep-alive.
import { fork } from 'node:child_process';
import console from 'node:console';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    new: { type: 'string', default: '.' },
    bytes: { type: 'string', default: '85000' },
    rounds: { type: 'string', default: '10' },
    batch: { type: 'string', default: '300' },
    'in-flight': { type: 'string', default: '30' },
    serve: { type: 'string' },
  },
});

if (values.serve !== undefined) {
  await serve(Number(values.serve));
} else {
  await compare();
}

interface Build {
  name: string;
  client: {
    download<T>(url: string, sink: (body: unknown) => Promise<T>): Promise<T>;
    close(): Promise<void>;
  };
  storage: {
    writeStream(path: string, body: unknown): Promise<number>;
    exists(path: string): Promise<boolean>;
    list(dir: string): Promise<string[]>;
  };
  names: {
    segmentNameFor(url: string, prefix: string, disk: unknown): Promise<string>;
    written(name: string): void;
  };
  /** Before the folder filter, segmentNameFor took an `exists` function; after, an object. */
  takesDisk: boolean;
  dir: string;
  next: number;
  cpu: number[];
}

async function compare(): Promise<void> {
  if (values.base === undefined) throw new Error('--base <root of the other build> is required');
  const bytes = Number(values.bytes);
  const rounds = Number(values.rounds);
  const batchSize = Number(values.batch);
  const inFlight = Number(values['in-flight']);
  const server = fork(process.argv[1]!, ['--serve', String(bytes)]);
  const port = await new Promise<number>((done) =>
    server.once('message', (m) => done(m as number)),
  );
  const work = await mkdtemp(join(os.tmpdir(), 'hlsdump-segment-ab-'));
  try {
    const builds = [await load('base', values.base, work), await load('new', values.new, work)];
    const batch = async (build: Build): Promise<number> => {
      const disk = {
        exists: (name: string) => build.storage.exists(join(build.dir, name)),
        list: () => build.storage.list(build.dir),
      };
      const one = async (): Promise<void> => {
        const url = `http://127.0.0.1:${port}/live/seg${build.next++}.ts`;
        const file = await build.names.segmentNameFor(
          url,
          'r0',
          build.takesDisk ? disk : disk.exists,
        );
        await build.client.download(url, (body) =>
          build.storage.writeStream(join(build.dir, file), body),
        );
        build.names.written(file);
      };
      let started = 0;
      const before = process.cpuUsage();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (started++ < batchSize) await one();
        }),
      );
      const used = process.cpuUsage(before);
      return (used.user + used.system) / batchSize;
    };
    for (const build of builds) await batch(build); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
        build.cpu.push(await batch(build));
      }
    }
    const [base, next] = builds as [Build, Build];
    console.log(
      `segment ${bytes} B, ${rounds} rounds of ${batchSize} (${inFlight} in flight), load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    for (const build of builds) {
      console.log(
        `${build.name}: median ${median(build.cpu).toFixed(0)} µs CPU per segment (rounds ${build.cpu
          .map((c) => c.toFixed(0))
          .join(' ')})`,
      );
    }
    console.log(`new / base: ${(median(next.cpu) / median(base.cpu)).toFixed(3)}`);
    // Each round runs both builds back to back: the median of those pairs' ratios is less
    // sensitive to the machine's load drifting between rounds than the ratio of medians.
    const pairs = next.cpu.map((cpu, i) => cpu / base.cpu[i]!);
    console.log(
      `new / base, median of the rounds' ratios: ${median(pairs).toFixed(3)} (${pairs.map((r) => r.toFixed(2)).join(' ')})`,
    );
    for (const build of builds) await build.client.close();
  } finally {
    server.kill();
    await rm(work, { recursive: true, force: true });
  }
}

async function load(name: string, root: string, work: string): Promise<Build> {
  const from = (path: string) => import(pathToFileURL(resolve(root, path)).href);
  const { OriginClient } = await from('packages/hls-client/dist/index.js');
  const { LocalStorage } = await from('packages/storage/dist/index.js');
  const { LocalNames } = await from('packages/dump-engine/dist/local-names.js');
  const dir = join(work, name);
  await mkdir(dir);
  const names = new LocalNames();
  return {
    name,
    client: new OriginClient(),
    storage: new LocalStorage(),
    names,
    takesDisk: typeof names.listDisk === 'function',
    dir,
    next: 0,
    cpu: [],
  };
}

async function serve(bytes: number): Promise<void> {
  const http = await import('node:http');
  const body = Buffer.alloc(bytes, 7);
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': bytes });
    for (let at = 0; at < bytes; at += 65536) {
      response.write(body.subarray(at, Math.min(bytes, at + 65536)));
    }
    response.end();
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.(typeof address === 'object' && address ? address.port : 0);
  });
  process.on('disconnect', () => server.close());
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
