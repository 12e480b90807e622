import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HlsDump,
  type DumpDependencies,
  type EngineEvent,
  type DumpRequest,
} from '@hlsdump/dump-engine';
import { OriginClient, parseMediaPlaylist, type RenditionDetails } from '@hlsdump/hls-client';
import { LocalStorage } from '@hlsdump/storage';

/** A fresh directory under the OS temp dir, removed by the returned function. */
export async function tempDir(
  prefix: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `hlsdump-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface RunningDump {
  dump: HlsDump;
  client: OriginClient;
  events: EngineEvent[];
  /** Resolves once every rendition has written `count` segments. */
  segmentsWritten(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a real dump (real storage, real undici client) and records its events. */
export async function startDump(
  request: DumpRequest,
  deps: Partial<DumpDependencies> = {},
): Promise<RunningDump> {
  const client =
    deps.client ??
    new OriginClient({
      retry: { maxRetries: 5, retryDelayMs: 20, maxRetryDelayMs: 200, backoff: 'exponential' },
    });
  const dump = new HlsDump(request, { storage: new LocalStorage(), client, ...deps });
  const events: EngineEvent[] = [];
  const waiters = new Set<() => void>();
  dump.on((event) => {
    events.push(event);
    for (const wake of waiters) wake();
  });
  await dump.start();
  return {
    dump,
    client,
    events,
    segmentsWritten: (count) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          const progress = dump.progress();
          if (progress.renditions.every((r) => r.segments >= count)) {
            waiters.delete(check);
            resolve();
          } else if (progress.status === 'Completed' || progress.status === 'Error') {
            waiters.delete(check);
            reject(
              new Error(
                `dump ended (${progress.status}) before ${count} segments: ${JSON.stringify(progress)}`,
              ),
            );
          }
        };
        waiters.add(check);
        check();
      }),
    close: () => client.close(),
  };
}

/** A dumped chunklist, parsed by the project's parser (the same one that reads origins). */
export async function readChunklist(
  path: string,
): Promise<{ text: string; details: RenditionDetails }> {
  const text = await readFile(path, 'utf8');
  return { text, details: parseMediaPlaylist(text, pathToFileURL(path).href) };
}

export function baseName(url: string): string {
  return new URL(url).pathname.split('/').pop() ?? '';
}
