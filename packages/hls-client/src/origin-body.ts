import { Readable } from 'node:stream';

/** What a body needs of the request carrying it (undici's dispatch controller). */
export interface BodyController {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
}

/** Takes a body's chunks as they arrive: the storage's segment writer. */
export interface ChunkConsumer {
  /** May throw (a failed write): the body is then destroyed with that error. */
  chunk(data: Buffer): void;
  end(): void;
  fail(error: unknown): void;
}

/** Chunks held, before anyone reads, up to this much before the connection is paused. */
const EARLY_BYTES = 64 * 1024;
/** A body thrown away is read to its end up to this much, to keep its connection; past it, closed. */
const DUMP_BYTES = 128 * 1024;

/**
 * A response body from the origin. It is a Readable for whoever wants a stream, and it can also
 * hand its chunks straight to one consumer (`deliverTo`) without the stream's events, buffers and
 * ticks per chunk: a segment, the most frequent body, is written that way.
 *
 * Chunks that arrive before anyone asked (with the headers, in the same read) are held until a
 * reader or a consumer comes.
 */
export class OriginBody extends Readable {
  /** Whether the whole body arrived. */
  complete = false;
  private controller: BodyController | undefined;
  private consumer: ChunkConsumer | undefined;
  /** Chunks held until a reader or a consumer comes; undefined once one did. */
  private early: Buffer[] | undefined = [];
  private earlyBytes = 0;

  attach(controller: BodyController): void {
    this.controller = controller;
  }

  /** From the request: a chunk of the body. */
  received(chunk: Buffer): void {
    if (this.consumer !== undefined) {
      try {
        this.consumer.chunk(chunk);
      } catch (error) {
        this.fail(error as Error);
      }
    } else if (this.early !== undefined) {
      this.early.push(chunk);
      this.earlyBytes += chunk.byteLength;
      if (this.earlyBytes >= EARLY_BYTES) this.controller?.pause();
    } else if (!this.push(chunk)) {
      this.controller?.pause();
    }
  }

  /** From the request: the body ended. */
  finished(): void {
    this.complete = true;
    if (this.consumer !== undefined) this.consumer.end();
    else if (this.early === undefined) this.push(null);
  }

  /**
   * From the request, or from whoever gives up on the body: destroys it with `error`. The 'error'
   * event then has a listener even before its reader attached one, so it never ends the process.
   */
  fail(error: Error): void {
    this.on('error', ignore);
    this.destroy(error);
  }

  /**
   * Hands every chunk, from the first, to `consumer`. False when the body is already being read
   * as a stream or is destroyed: the consumer must then read it as one.
   */
  deliverTo(consumer: ChunkConsumer): boolean {
    const early = this.early;
    if (early === undefined || this.destroyed) return false;
    this.early = undefined;
    this.consumer = consumer;
    for (const chunk of early) {
      this.received(chunk);
      if (this.destroyed) return true;
    }
    if (this.complete) consumer.end();
    else this.controller?.resume();
    return true;
  }

  /** Reads the rest of the body and throws it away (a short one keeps its connection). */
  dump(): Promise<void> {
    if (this.complete || this.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      let bytes = 0;
      const taken = this.deliverTo({
        chunk: (data) => {
          bytes += data.byteLength;
          if (bytes > DUMP_BYTES) throw new Error('a discarded body too long to read to its end');
        },
        end: resolve,
        fail: () => resolve(),
      });
      if (!taken) {
        this.once('close', resolve);
        this.resume();
      }
    });
  }

  override _read(): void {
    const early = this.early;
    if (early !== undefined) {
      this.early = undefined;
      for (const chunk of early) this.push(chunk);
      if (this.complete) this.push(null);
    }
    this.controller?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.complete) {
      const reason = error ?? prematureClose();
      this.controller?.abort(reason);
      this.consumer?.fail(reason);
    }
    callback(error);
  }
}

function ignore(): void {
  // Whoever reads the body sees the error through its own listener.
}

function prematureClose(): Error {
  return Object.assign(new Error('The body was destroyed before it was complete.'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
}
