import { randomBytes } from 'node:crypto';
import fs, { writeSync, writevSync } from 'node:fs';
import { link, mkdir, open, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { DumpStorage, PatchableFile, PreparedWrite } from './dump-storage.js';
import { toStorageError } from './storage-error.js';

/**
 * DumpStorage on the local file system.
 *
 * Whole-file writes go to `.<basename>.<random>.tmp` in the target directory (same file system, so
 * the final rename is atomic) and are renamed into place. They are deliberately not fsynced: a dump
 * writes several files a second and an fsync each would cost more than the write itself; after a
 * crash the dump is restarted anyway. The infoFile, which must survive, asks for `durable` writes.
 */
export class LocalStorage implements DumpStorage {
  /** The temporaries of this storage's prepared writes not yet committed or discarded. */
  private readonly prepared = new Set<string>();

  async ensureDir(dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw toStorageError(error, 'create the directory', dir);
    }
  }

  async writeFile(
    path: string,
    data: string | Uint8Array,
    options?: { exclusive?: boolean; durable?: boolean; patchedFrom?: number },
  ): Promise<number> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const temp = tempPathFor(path);
    try {
      await fillTemporary(temp, 'wx', bytes, options?.durable === true, options?.patchedFrom);
      if (options?.exclusive) await linkExclusive(temp, path, bytes);
      else await renameAsync(temp, path);
    } catch (error) {
      await removeQuietly(temp);
      throw toStorageError(error, 'write', path);
    }
    // After linkExclusive the temporary name is still there; removing it is housekeeping only.
    if (options?.exclusive) await removeQuietly(temp);
    return bytes.byteLength;
  }

  /**
   * The most frequent write a dump makes (every segment): the file by its plain descriptor and the
   * body by its 'data' events, gathered and written a few hundred KiB at a time with one writev,
   * without a FileHandle, an async iterator or a copy of the chunks.
   *
   * The body's writes run synchronously, like PatchableFile.write: each lands in the page cache in
   * a fraction of a millisecond, while through the thread pool each cost a hand-off to a pool thread
   * and a wake-up of the event loop on top of the same copy. The open, the close and the rename
   * stay asynchronous: on a network file system they wait on the server (a close flushes the file
   * to it), and the event loop serves every other dump meanwhile.
   */
  async writeStream(
    path: string,
    body: Readable | AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<number> {
    if (signal?.aborted) throw abortErrorOf(signal);
    const temp = tempPathFor(path);
    let fd: number;
    try {
      fd = await openFd(temp, 'wx');
    } catch (error) {
      throw toStorageError(error, 'write', path);
    }
    let open = true;
    let bytes: number;
    try {
      const source = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
      bytes = (await takeChunks(fd, source, signal)) ?? (await drainInto(fd, source, signal));
      if (signal?.aborted) throw abortErrorOf(signal);
      open = false;
      await closeFd(fd);
      await renameAsync(temp, path);
    } catch (error) {
      if (open) await closeFd(fd).catch(() => undefined);
      await removeQuietly(temp);
      if (isAbortError(error)) throw error;
      if (signal?.aborted) throw abortErrorOf(signal);
      throw toStorageError(error, 'write', path);
    }
    return bytes;
  }

  async list(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      throw toStorageError(error, 'list', dir);
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw toStorageError(error, 'look up', path);
    }
  }

  async prepareWrite(path: string): Promise<PreparedWrite> {
    const temp = tempPathFor(path);
    try {
      await closeFd(await openFd(temp, 'wx'));
    } catch (error) {
      throw toStorageError(error, 'write', path);
    }
    this.prepared.add(temp);
    return new LocalPreparedWrite(path, temp, () => this.prepared.delete(temp));
  }

  async removeTemporaries(dir: string, name?: string): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw toStorageError(error, 'list', dir);
    }
    const removed: string[] = [];
    for (const entry of entries) {
      const match = TEMPORARY_NAME.exec(entry);
      if (!match || (name !== undefined && match[1] !== name)) continue;
      const path = join(dir, entry);
      if (this.prepared.has(path)) continue; // held for a write to come, not left behind
      try {
        await unlink(path);
        removed.push(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
          throw toStorageError(error, 'remove', path);
      }
    }
    return removed;
  }

  async readFile(path: string): Promise<Buffer> {
    try {
      return await readFile(path);
    } catch (error) {
      throw toStorageError(error, 'read', path);
    }
  }

  async size(path: string): Promise<number> {
    try {
      return (await stat(path)).size;
    } catch (error) {
      throw toStorageError(error, 'look up', path);
    }
  }

  async openPatchable(
    path: string,
    mode: { create: 'exclusive' | 'existing' },
  ): Promise<PatchableFile> {
    try {
      // 'r+' never creates or truncates; 'wx' creates and fails with EEXIST.
      const fd = await openFd(path, mode.create === 'exclusive' ? 'wx' : 'r+');
      return new LocalPatchableFile(path, fd);
    } catch (error) {
      throw toStorageError(error, 'open', path);
    }
  }
}

/** The temporary file is made and closed; a commit opens it again, which creates nothing. */
class LocalPreparedWrite implements PreparedWrite {
  private used = false;

  constructor(
    private readonly path: string,
    private readonly temp: string,
    private readonly released: () => void,
  ) {}

  async commit(data: string | Uint8Array, options?: { durable?: boolean }): Promise<number> {
    this.use('write');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      await fillTemporary(this.temp, 'r+', bytes, options?.durable === true);
      await renameAsync(this.temp, this.path);
    } catch (error) {
      await removeQuietly(this.temp);
      throw toStorageError(error, 'write', this.path);
    }
    return bytes.byteLength;
  }

  async discard(): Promise<void> {
    this.use('discard');
    await removeQuietly(this.temp);
  }

  private use(action: string): void {
    if (this.used)
      throw toStorageError(new Error('the prepared write is already used'), action, this.path);
    this.used = true;
    this.released();
  }
}

/**
 * Writes a whole temporary file from its start; `durable` flushes it before it is renamed. The
 * bytes from `patchedFrom` on go in pieces of PATCHED_PIECE_BYTES (DumpStorage.writeFile).
 */
async function fillTemporary(
  temp: string,
  flags: 'wx' | 'r+',
  bytes: Uint8Array,
  durable: boolean,
  patchedFrom?: number,
): Promise<void> {
  const fd = await openFd(temp, flags);
  try {
    const pieces =
      patchedFrom === undefined
        ? bytes.byteLength
        : Math.min(
            bytes.byteLength,
            Math.floor(patchedFrom / PATCHED_PIECE_BYTES) * PATCHED_PIECE_BYTES,
          );
    await writeAllFd(fd, bytes.subarray(0, pieces), 0);
    // Synchronous, like a segment body's writes: each piece is a copy into the page cache, and
    // through the thread pool each would cost a hand-off and a wake-up besides.
    for (let at = pieces; at < bytes.byteLength; at += PATCHED_PIECE_BYTES) {
      const piece = bytes.subarray(at, Math.min(at + PATCHED_PIECE_BYTES, bytes.byteLength));
      writevAllSync(fd, [piece], piece.byteLength, at);
    }
    if (durable) await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/**
 * A file kept open for patches (a chunklist, an infoFile), by its plain descriptor rather than a
 * FileHandle: Node ends the process when it garbage-collects a FileHandle left open, and one dump
 * that drops its file without closing it must not take the others of its worker with it.
 */
class LocalPatchableFile implements PatchableFile {
  private closed = false;

  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  async size(): Promise<number> {
    this.assertOpen('inspect');
    try {
      return (await fstatFd(this.fd)).size;
    } catch (error) {
      throw toStorageError(error, 'inspect', this.path);
    }
  }

  /**
   * Written synchronously: a patch is a few to a few hundred bytes into the page cache, and a dump
   * makes about a dozen per segment (chunklist and infoFile). Through the thread pool each cost a
   * hand-off to a pool thread and back, several times the write itself; they were the largest
   * single cost of a running worker. Whole files, segments, opens and syncs stay asynchronous.
   */
  async write(offset: number, data: Uint8Array): Promise<void> {
    this.assertOpen('write');
    try {
      let done = 0;
      while (done < data.byteLength) {
        const bytesWritten = writeSync(this.fd, data, done, data.byteLength - done, offset + done);
        if (bytesWritten === 0) throw new Error('the system wrote no bytes');
        done += bytesWritten;
      }
    } catch (error) {
      throw toStorageError(error, 'write', this.path);
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.assertOpen('read');
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await readFd(this.fd, buffer, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (error) {
      throw toStorageError(error, 'read', this.path);
    }
    return buffer.subarray(0, done);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await closeFd(this.fd);
    } catch (error) {
      throw toStorageError(error, 'close', this.path);
    }
  }

  /** A closed descriptor's number may already name another file: nothing goes through it. */
  private assertOpen(action: string): void {
    if (this.closed) throw toStorageError(new Error('the file is closed'), action, this.path);
  }
}

const openFd = promisify(fs.open);
const renameAsync = promisify(fs.rename);
const fstatFd = promisify(fs.fstat);
const fsyncFd = promisify(fs.fsync);
const readFd = promisify(fs.read);
const closeFd = promisify(fs.close);

/** How much of a streamed body is gathered before it is written. */
const FLUSH_BYTES = 256 * 1024;

/**
 * Reads `body` to its end into `fd` from offset 0, writing synchronously as it comes; resolves
 * with the bytes written. Rejects on a failure of the body, of a write, or an abort.
 */
function drainInto(fd: number, body: Readable, signal: AbortSignal | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const writes = new GatheredWrites(fd);
    let settled = false;

    const finish = (error: unknown): void => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(writes.written);
      else reject(error);
    };
    const onData = (chunk: unknown): void => {
      if (settled) return;
      try {
        writes.add(bytesOf(chunk));
      } catch (error) {
        // The body is left to its owner: a failure of the disk is not one of the origin's.
        finish(error);
      }
    };
    const onEnd = (): void => {
      try {
        writes.flush();
        finish(undefined);
      } catch (error) {
        finish(error);
      }
    };
    const onError = (error: unknown): void => finish(error);
    // Destroyed before its end without an error of its own: the copy is incomplete.
    const onClose = (): void => finish(prematureClose());
    const onAbort = (): void => {
      finish(abortErrorOf(signal!));
      body.destroy();
    };

    if (body.destroyed || body.readableEnded) {
      // Nothing more will come: a body already ended here was read by someone else.
      reject(body.errored ?? prematureClose());
      return;
    }
    body.on('error', onError);
    body.on('close', onClose);
    body.on('end', onEnd);
    signal?.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData);
  });
}

/**
 * Like drainInto, for a body that hands its chunks straight to a consumer (the origin client's,
 * see ChunkSource): no stream events or listeners per body. Undefined when the body does not, or
 * no longer can (it is already being read as a stream).
 */
function takeChunks(
  fd: number,
  body: Readable,
  signal: AbortSignal | undefined,
): Promise<number> | undefined {
  if (!isChunkSource(body)) return undefined;
  let taken = false;
  const written = new Promise<number>((resolve, reject) => {
    const writes = new GatheredWrites(fd);
    let settled = false;

    const finish = (error: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(writes.written);
      else reject(error);
    };
    const onAbort = (): void => {
      finish(abortErrorOf(signal!));
      body.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    taken = body.deliverTo({
      // A failed write throws: the body is then destroyed with that error, and fails here.
      chunk(data) {
        // Nothing goes through a descriptor the caller may have closed since.
        if (!settled) writes.add(data);
      },
      end() {
        try {
          writes.flush();
          finish(undefined);
        } catch (error) {
          finish(error);
        }
      },
      fail: finish,
    });
    if (!taken) signal?.removeEventListener('abort', onAbort);
  });
  return taken ? written : undefined;
}

/**
 * A body that can hand its chunks straight to one consumer instead of through stream events;
 * `deliverTo` answers false when it cannot (it is already being read as a stream).
 */
export interface ChunkSource {
  deliverTo(consumer: {
    chunk(data: Uint8Array): void;
    end(): void;
    fail(error: unknown): void;
  }): boolean;
}

function isChunkSource(body: object): body is ChunkSource {
  return typeof (body as Partial<ChunkSource>).deliverTo === 'function';
}

/**
 * A body's chunks written to `fd` from offset 0 as they arrive, gathered a few hundred KiB at a
 * time into one synchronous writev (a failed write throws from add or flush).
 */
class GatheredWrites {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes written so far. */
  written = 0;

  constructor(private readonly fd: number) {}

  add(data: Uint8Array): void {
    this.pending.push(data);
    this.pendingBytes += data.byteLength;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /** Writes what is gathered. */
  flush(): void {
    if (this.pendingBytes === 0) return;
    writevAllSync(this.fd, this.pending, this.pendingBytes, this.written);
    this.written += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * How the bytes a file will be patched in are written (DumpStorage.writeFile's `patchedFrom`):
 * a small write into a file written at once cost ~5.7 µs on ext4 here, into one written 16 KiB
 * at a time 0.5 µs, as into a small file.
 */
const PATCHED_PIECE_BYTES = 16 * 1024;

/** One positional writev of `chunks` (`length` bytes in all) at `offset`, repeated for what the OS left. */
function writevAllSync(fd: number, chunks: Uint8Array[], length: number, offset: number): void {
  let written =
    chunks.length === 1
      ? writeSync(fd, chunks[0]!, 0, length, offset)
      : writevSync(fd, chunks, offset);
  while (written < length) {
    if (written === 0) throw new Error('the system wrote no bytes');
    // Rare (a full disk about to fail, a signal): the rest as one buffer.
    const rest = Buffer.concat(chunks, length).subarray(written);
    const more = writeSync(fd, rest, 0, rest.byteLength, offset + written);
    if (more === 0) throw new Error('the system wrote no bytes');
    written += more;
  }
}

/** One positional writev of `chunks` (`length` bytes in all) at `offset`, repeated for what the OS left. */
function writevAll(
  fd: number,
  chunks: Uint8Array[],
  length: number,
  offset: number,
  done: (error: Error | null) => void,
): void {
  const callback = (error: Error | null, written: number): void => {
    if (error) return done(error);
    if (written === length) return done(null);
    if (written === 0) return done(new Error('the system wrote no bytes'));
    // Rare (a full disk about to fail, a signal): the rest as one buffer.
    const rest = Buffer.concat(chunks, length).subarray(written);
    writevAll(fd, [rest], rest.byteLength, offset + written, done);
  };
  if (chunks.length === 1) fs.write(fd, chunks[0]!, 0, length, offset, callback);
  else fs.writev(fd, chunks, offset, callback);
}

async function writeAllFd(fd: number, data: Uint8Array, offset: number): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    writevAll(fd, [data], data.byteLength, offset, (error) => (error ? reject(error) : resolve())),
  );
}

function prematureClose(): Error {
  return Object.assign(new Error('The body ended before it was complete.'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
}

/** Same directory as the target, so rename never crosses file systems; hidden so listings skip it. */
export function tempPathFor(path: string): string {
  temporaries = (temporaries + 1) % TEMPORARY_COUNTER_SPAN;
  const suffix = TEMPORARY_PREFIX + temporaries.toString(16).padStart(6, '0');
  return join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
}

/**
 * A temporary name is this process's random prefix and a counter: unique among this process's
 * files being written, and unlike another process's but by a 1 in 16 million chance (which an
 * exclusive open turns into a failed write, never a shared file). No random bytes per file.
 */
const TEMPORARY_PREFIX = randomBytes(3).toString('hex');
const TEMPORARY_COUNTER_SPAN = 0x1000000;
let temporaries = Math.floor(Math.random() * TEMPORARY_COUNTER_SPAN);

/** The name tempPathFor gives: `.<name>.<12 hex>.tmp`; the group is the final file's name. */
const TEMPORARY_NAME = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

/**
 * link() fails with EEXIST instead of replacing, which makes "create if absent" atomic. File
 * systems without hard links fall back to an exclusive create plus one write (not atomic, but
 * still exclusive).
 */
async function linkExclusive(temp: string, path: string, bytes: Uint8Array): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
      throw error;
    }
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(bytes);
    } finally {
      await handle.close();
    }
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Already gone, or the directory itself is unusable; the original error is the one to report.
  }
}

function bytesOf(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError('A stream body must yield Uint8Array or string chunks.');
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function abortErrorOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (isAbortError(reason)) return reason as Error;
  return new DOMException('The write was aborted.', 'AbortError');
}
