import { mkdir } from 'node:fs/promises';
import type { DumpCheckpoint, EngineEvent, DumpProgress, DumpRequest } from '@hlsdump/dump-engine';
import type { CreateDump, CreateDumpOptions, DumpHandle } from './engine.js';

/**
 * A stand-in for the engine (it has its own tests): start creates outputPath, progress counts
 * heartbeats, stop/suspend settle `done` like HlsDump does. Behaviour is chosen per dump.
 */
export type FakeBehaviour =
  | { kind: 'run' }
  | { kind: 'fail'; code: string; message: string }
  /** start() waits until its signal aborts. */
  | { kind: 'hang' };

export class FakeDump implements DumpHandle {
  readonly done: Promise<DumpProgress>;
  status: DumpProgress['status'] = 'Starting';
  private settle!: (progress: DumpProgress) => void;
  private segments: number;

  constructor(
    readonly request: DumpRequest,
    readonly options: CreateDumpOptions,
    private readonly behaviour: FakeBehaviour,
  ) {
    this.done = new Promise((resolve) => (this.settle = resolve));
    this.segments = options.resumeFrom?.renditions[0]?.entryCount ?? 0;
  }

  on(_listener: (event: EngineEvent) => void): () => void {
    return () => {};
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.behaviour.kind === 'fail') {
      this.status = 'Error';
      this.settle(this.progress());
      throw Object.assign(new Error(this.behaviour.message), { code: this.behaviour.code });
    }
    if (this.behaviour.kind === 'hang') {
      await new Promise<void>((_resolve, reject) => {
        if (signal?.aborted) reject(new Error('aborted'));
        signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }).catch((error: unknown) => {
        this.status = 'Error';
        this.settle(this.progress());
        throw error;
      });
    }
    await mkdir(this.request.outputPath, { recursive: true });
    this.status = 'Running';
    this.segments += 1;
  }

  /** The origin ended the stream (ENDLIST). */
  finishByItself(status: 'Completed' | 'Error' = 'Completed'): void {
    this.status = status;
    this.settle(this.progress());
  }

  async stop(): Promise<DumpProgress> {
    if (this.status === 'Running') {
      this.status = 'Completed';
      this.settle(this.progress());
    }
    return this.done;
  }

  async suspend(): Promise<DumpCheckpoint> {
    if (this.status === 'Running') this.settle(this.progress());
    await this.done;
    return this.checkpoint();
  }

  checkpoint(): DumpCheckpoint {
    return {
      version: 2,
      request: this.request,
      renditions: [
        {
          url: 'http://origin/chunklist_0.m3u8',
          chunklist: 'chunklist_0.m3u8',
          entryCount: this.segments,
          inits: {},
          gaps: 0,
          bytes: 0,
        },
      ],
    };
  }

  progress(): DumpProgress {
    return {
      status: this.status,
      notices: [],
      renditions: [
        {
          chunklist: 'chunklist_0.m3u8',
          lastMsn: 100 + this.segments,
          segments: this.segments,
          bytes: 1000 * this.segments,
          gaps: 0,
        },
      ],
      filesWritten: this.segments,
      bytesWritten: 1000 * this.segments,
      gaps: 0,
      ...(this.status === 'Error' && { error: { code: 'ORIGIN_GONE', message: 'gone' } }),
    };
  }
}

/** A CreateDump recording every dump it made; behaviour by outputPath's last segment. */
export class FakeEngine {
  readonly dumps: FakeDump[] = [];
  readonly behaviours = new Map<string, FakeBehaviour>();
  private readonly created: ((dump: FakeDump) => void)[] = [];

  readonly create: CreateDump = (request, options) => {
    const name = request.outputPath.split('/').pop() ?? '';
    const dump = new FakeDump(request, options, this.behaviours.get(name) ?? { kind: 'run' });
    this.dumps.push(dump);
    for (const listener of this.created.splice(0)) listener(dump);
    return dump;
  };

  /** The next dump created. */
  nextDump(): Promise<FakeDump> {
    return new Promise((resolve) => this.created.push(resolve));
  }
}
