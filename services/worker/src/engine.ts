import {
  HlsDump,
  type DumpCheckpoint,
  type EngineEvent,
  type DumpLimits,
  type DumpProgress,
  type DumpRequest,
  originClientFor,
} from '@hlsdump/dump-engine';
import { OriginConnections, type OriginClientOptions } from '@hlsdump/hls-client';
import { LocalStorage } from '@hlsdump/storage';

/** What the worker needs of a dump: the engine's HlsDump, or a stand-in in tests. */
export interface DumpHandle {
  on(listener: (event: EngineEvent) => void): () => void;
  start(signal?: AbortSignal): Promise<void>;
  readonly done: Promise<DumpProgress>;
  stop(): Promise<DumpProgress>;
  suspend(): Promise<DumpCheckpoint>;
  checkpoint(): DumpCheckpoint;
  progress(): DumpProgress;
  /** Releases what the dump holds besides files (its origin connections). */
  dispose?(): Promise<void>;
}

export interface CreateDumpOptions {
  resumeFrom?: DumpCheckpoint;
  /** Throws once the worker lost the dump: no write may follow. */
  beforeWrite: () => void | Promise<void>;
  /** Persists the checkpoint as the dump advances. */
  onCheckpoint?: (checkpoint: DumpCheckpoint) => Promise<void>;
  /** Awaited once the dump runs, before it records (starts-in-progress.ts). */
  beforeRecording?: (signal: AbortSignal) => Promise<void>;
}

export type CreateDump = (request: DumpRequest, options: CreateDumpOptions) => DumpHandle;

/**
 * The real engine. Each dump gets its own OriginClient (its app's headers and CA, its requests
 * ended by its close) over the connections every dump of the worker shares: a connection one
 * dump leaves idle is another's before the origin's keep-alive ends it. And its own
 * LocalStorage: the writes it prepared for its end are its own, while a former run of the same
 * dump in this process (taken over after it lost Redis) left temporaries that are leftovers to it
 * like any other owner's.
 */
export function engineDumpFactory(
  limits: Partial<DumpLimits> = {},
  /** Observability hooks of every dump's origin client (metrics). */
  observe: Pick<OriginClientOptions, 'onRequest' | 'onRetry'> = {},
): CreateDump {
  const connections = new OriginConnections();
  return (request, options) => {
    const client = originClientFor(request, { ...observe, connections });
    const dump = new HlsDump(request, {
      storage: new LocalStorage(),
      client,
      limits,
      beforeWrite: options.beforeWrite,
      ...(options.onCheckpoint && { onCheckpoint: options.onCheckpoint }),
      ...(options.beforeRecording && { beforeRecording: options.beforeRecording }),
      ...(options.resumeFrom && { resumeFrom: options.resumeFrom }),
    });
    return Object.assign(dump, { dispose: () => client.close() }) satisfies DumpHandle;
  };
}
