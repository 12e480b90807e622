import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  findFreePort,
  findRedisServerBinary,
  RedisServerNotFoundError,
  type SentinelAddress,
} from '@hlsdump/contracts';
import { Redis } from 'ioredis';
import { tempDir } from './dump-kit.ts';
import { waitFor } from './wait-for.ts';

/** One `redis-server` process (a data node or a Sentinel) on a free loopback port. */
export interface RedisNode {
  readonly port: number;
  readonly process: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A Redis master, one replica and three Sentinels (quorum 2), all real `redis-server` processes
 * on free loopback ports, persistence off. Sentinels call the master down after `downAfterMs`
 * unanswered (1 s unless told).
 */
export interface SentinelSet {
  readonly masterName: string;
  readonly master: RedisNode;
  readonly replica: RedisNode;
  readonly sentinels: RedisNode[];
  /** REDIS_SENTINELS + REDIS_SENTINEL_NAME for the services. */
  readonly env: Record<string, string>;
  /** The master's port as the Sentinels report it now. */
  masterPort(): Promise<number>;
  /** What `ROLE` answers on a data node: 'master' or 'slave'. */
  roleOf(node: RedisNode): Promise<string>;
  logs(): string;
  close(): Promise<void>;
}

export async function startSentinelSet(
  masterName = 'hlsdump',
  { downAfterMs = 1_000 }: { downAfterMs?: number } = {},
): Promise<SentinelSet> {
  const binary = findRedisServerBinary();
  if (!binary) throw new RedisServerNotFoundError();
  const dir = await tempDir('sentinel');
  const nodes: RedisNode[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.kill('SIGKILL')));
    await dir.remove();
  };
  const logs = (): string =>
    nodes.map((node) => `--- redis :${node.port}\n${node.output().slice(-3_000)}`).join('\n');
  const start = async (args: (port: number) => Promise<string[]>, ready: RegExp) => {
    const port = await findFreePort();
    const node = spawnNode(binary, await args(port), port);
    nodes.push(node);
    await waitFor(`redis-server :${port} to print ${ready}`, () => ready.test(node.output()), {
      timeoutMs: 10_000,
      details: () => node.output(),
    });
    return node;
  };
  const common = (port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    // A replica keeps the snapshot it syncs from: in the temp dir, never the caller's cwd.
    '--dir',
    dir.path,
  ];

  try {
    const master = await start(async (port) => common(port), /Ready to accept connections/);
    const replica = await start(
      async (port) => [...common(port), '--replicaof', '127.0.0.1', String(master.port)],
      /MASTER <-> REPLICA sync: (Finished with success|Master accepted a Partial)/,
    );
    const sentinels: RedisNode[] = [];
    for (let i = 0; i < 3; i++) {
      sentinels.push(
        await start(async (port) => {
          // Sentinel rewrites its configuration file as it learns: one writable file each.
          const file = join(dir.path, `sentinel-${port}.conf`);
          await writeFile(
            file,
            [
              `port ${port}`,
              'bind 127.0.0.1',
              `dir ${dir.path}`,
              `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
              `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
              `sentinel failover-timeout ${masterName} 10000`,
              `sentinel parallel-syncs ${masterName} 1`,
              '',
            ].join('\n'),
          );
          return [file, '--sentinel'];
        }, /\+monitor master/),
      );
    }
    const ask = async <T>(port: number, command: string[]): Promise<T> => {
      const client = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      try {
        await client.connect();
        return (await client.call(command[0]!, ...command.slice(1))) as T;
      } finally {
        client.disconnect();
      }
    };
    // A failover needs every Sentinel to know the replica and the two other Sentinels.
    await waitFor(
      'every Sentinel to know the replica and the other Sentinels',
      async () => {
        for (const sentinel of sentinels) {
          const replicas = await ask<unknown[]>(sentinel.port, [
            'SENTINEL',
            'REPLICAS',
            masterName,
          ]);
          const peers = await ask<unknown[]>(sentinel.port, ['SENTINEL', 'SENTINELS', masterName]);
          if (replicas.length !== 1 || peers.length !== 2) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 250, details: logs },
    );
    const addresses: SentinelAddress[] = sentinels.map((s) => ({
      host: '127.0.0.1',
      port: s.port,
    }));
    return {
      masterName,
      master,
      replica,
      sentinels,
      env: {
        REDIS_SENTINELS: addresses.map((a) => `${a.host}:${a.port}`).join(','),
        REDIS_SENTINEL_NAME: masterName,
      },
      async masterPort() {
        for (const sentinel of sentinels) {
          if (!sentinel.process.pid || sentinel.process.exitCode !== null) continue;
          const [, port] = await ask<[string, string]>(sentinel.port, [
            'SENTINEL',
            'GET-MASTER-ADDR-BY-NAME',
            masterName,
          ]);
          return Number(port);
        }
        throw new Error('no Sentinel is running');
      },
      async roleOf(node) {
        const [role] = await ask<[string]>(node.port, ['ROLE']);
        return role;
      },
      logs,
      close,
    };
  } catch (error) {
    const output = logs();
    await close();
    throw new Error(`the Sentinel set did not start: ${(error as Error).message}\n${output}`);
  }
}

function spawnNode(binary: string, args: string[], port: number): RedisNode {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    // Keep the tail only: a Sentinel logs for as long as the test runs.
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    process: child,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
