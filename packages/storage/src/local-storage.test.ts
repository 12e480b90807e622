import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage, tempPathFor } from './local-storage.js';
import { StorageError } from './storage-error.js';

let dir: string;
const storage = new LocalStorage();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hlsdump-storage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function* slowBody(
  chunks: number,
  size: number,
  delayMs: number,
): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < chunks; i++) {
    yield new Uint8Array(size).fill(i & 0xff);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

describe('LocalStorage.writeFile', () => {
  it('writes the bytes and leaves no temporary file', async () => {
    const path = join(dir, 'a.ts');
    expect(await storage.writeFile(path, 'héllo')).toBe(6);
    expect(await readFile(path)).toEqual(Buffer.from('héllo'));
    expect(await storage.writeFile(path, new Uint8Array([1, 2, 3]))).toBe(3);
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['a.ts']);
  });

  it('durable: the same atomic replace, with the bytes flushed before the name shows them', async () => {
    const path = join(dir, 'info.xml');
    await writeFile(path, 'old');
    expect(await storage.writeFile(path, '<final/>', { durable: true })).toBe(8);
    expect(await readFile(path, 'utf8')).toBe('<final/>');
    expect(
      await storage.writeFile(join(dir, 'new.xml'), 'x', { durable: true, exclusive: true }),
    ).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['info.xml', 'new.xml']);
  });

  it('patchedFrom: the bytes written in pieces from there on are the same bytes, wherever it falls', async () => {
    const bytes = Buffer.alloc(100_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
    const offsets = [0, 1, 16_383, 16_384, 16_385, 50_000, 99_999, 100_000, 250_000];
    for (const patchedFrom of offsets) {
      const path = join(dir, `info-${patchedFrom}.xml`);
      expect(await storage.writeFile(path, bytes, { exclusive: true, patchedFrom })).toBe(
        bytes.length,
      );
      expect((await readFile(path)).equals(bytes)).toBe(true);
      // Replacing a longer file leaves nothing of it past the new end.
      await storage.writeFile(path, bytes.subarray(0, 40_000), { patchedFrom, durable: true });
      expect((await readFile(path)).equals(bytes.subarray(0, 40_000))).toBe(true);
    }
    expect(await readdir(dir)).toHaveLength(offsets.length);
  });

  it('never lets a concurrent reader see a partial file', async () => {
    const path = join(dir, 'big.bin');
    const size = 4 * 1024 * 1024;
    await storage.writeFile(path, new Uint8Array(size).fill(0));
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const bytes = await readFile(path);
        reads++;
        expect(bytes.length).toBe(size);
        // Each version is filled with one byte value; a mix would show two.
        const first = bytes[0]!;
        expect(bytes.every((b) => b === first)).toBe(true);
      }
    })();
    for (let version = 1; version <= 30; version++) {
      await storage.writeFile(path, new Uint8Array(size).fill(version));
    }
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(3);
    expect(await readdir(dir)).toEqual(['big.bin']);
  });

  it('exclusive: creates a missing file atomically and refuses an existing one', async () => {
    const path = join(dir, 'info.xml');
    await storage.writeFile(path, 'first', { exclusive: true });
    const error = await rejection(storage.writeFile(path, 'second', { exclusive: true }));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_EXISTS');
    expect(await readFile(path, 'utf8')).toBe('first');
    expect(await readdir(dir)).toEqual(['info.xml']);
  });

  it('fails with STORAGE_NOT_FOUND when a parent is a regular file, naming the path', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    const path = join(dir, 'plain', 'child.ts');
    const error = await rejection(storage.writeFile(path, 'data'));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_NOT_FOUND');
    expect((error as StorageError).path).toBe(path);
    expect((error as StorageError).message).toContain(path);
    expect(((error as StorageError).cause as { code: string }).code).toBe('ENOTDIR');
  });

  it('fails with STORAGE_DENIED where the OS refuses even root (sysfs)', async () => {
    const error = await rejection(storage.writeFile('/sys/hlsdump-test.ts', 'data'));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_DENIED');
  });
});

describe('LocalStorage.writeStream', () => {
  it('streams a Readable and an async iterable, counting bytes', async () => {
    const a = join(dir, 'a.ts');
    expect(
      await storage.writeStream(a, Readable.from([Buffer.from('ab'), Buffer.from('cde')])),
    ).toBe(5);
    expect(await readFile(a, 'utf8')).toBe('abcde');
    const b = join(dir, 'b.ts');
    expect(await storage.writeStream(b, slowBody(3, 1000, 1))).toBe(3000);
    expect((await readFile(b)).length).toBe(3000);
    expect((await readdir(dir)).sort()).toEqual(['a.ts', 'b.ts']);
  });

  it('abort leaves neither the file nor a temporary file', async () => {
    const path = join(dir, 'seg.ts');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const error = await rejection(
      storage.writeStream(path, slowBody(1000, 1024, 5), controller.signal),
    );
    expect((error as Error).name).toBe('AbortError');
    expect(await readdir(dir)).toEqual([]);
  });

  it('an already aborted signal writes nothing', async () => {
    const error = await rejection(
      storage.writeStream(join(dir, 'x.ts'), slowBody(1, 1, 0), AbortSignal.abort()),
    );
    expect((error as Error).name).toBe('AbortError');
    expect(await readdir(dir)).toEqual([]);
  });

  it('a failing body becomes STORAGE_IO and leaves nothing behind', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error('origin went away');
    }
    const error = await rejection(storage.writeStream(join(dir, 'x.ts'), broken()));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_IO');
    expect((error as StorageError).message).toContain('origin went away');
    expect(await readdir(dir)).toEqual([]);
  });

  it('copies a body of many chunks byte for byte, over several writes', async () => {
    // 3 MiB in 64 KiB chunks pushed at once: gathered and written a few hundred KiB at a time.
    const chunks = Array.from({ length: 48 }, (_, i) =>
      Buffer.alloc(64 * 1024, 0).map((_, j) => (i * 31 + j * 7) & 0xff),
    );
    const path = join(dir, 'big.ts');
    expect(await storage.writeStream(path, Readable.from(chunks, { objectMode: false }))).toBe(
      48 * 64 * 1024,
    );
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
    expect(await readdir(dir)).toEqual(['big.ts']);
  });

  it('a body failing after some of it is written leaves nothing behind', async () => {
    const body = new Readable({ read() {} });
    const path = join(dir, 'x.ts');
    const writing = storage.writeStream(path, body);
    body.push(Buffer.alloc(600 * 1024, 1));
    setTimeout(() => body.destroy(new Error('connection reset')), 20);
    const error = await rejection(writing);
    expect((error as StorageError).code).toBe('STORAGE_IO');
    expect((error as StorageError).message).toContain('connection reset');
    expect(await readdir(dir)).toEqual([]);
  });

  it('a body destroyed before its end without an error leaves nothing behind', async () => {
    const body = new Readable({ read() {} });
    const writing = storage.writeStream(join(dir, 'x.ts'), body);
    body.push(Buffer.alloc(10, 1));
    setTimeout(() => body.destroy(), 20);
    expect(await rejection(writing)).toBeInstanceOf(StorageError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('an unwritable directory fails before reading the body', async () => {
    const error = await rejection(storage.writeStream(join(dir, 'no', 'x.ts'), slowBody(1, 1, 0)));
    expect((error as StorageError).code).toBe('STORAGE_NOT_FOUND');
  });
});

/**
 * A body that hands its chunks straight to a consumer, as the origin client's does: `chunks` one
 * every `delayMs`, then an end, or `failure` in place of the end.
 */
class DirectBody extends Readable {
  private timer: NodeJS.Timeout | undefined;
  private failed: ((error: unknown) => void) | undefined;

  constructor(
    private readonly chunks: Uint8Array[],
    private readonly delayMs: number,
    private readonly failure?: Error,
  ) {
    super({ read() {} });
  }

  deliverTo(consumer: {
    chunk(data: Uint8Array): void;
    end(): void;
    fail(error: unknown): void;
  }): boolean {
    this.failed = consumer.fail;
    let next = 0;
    const step = (): void => {
      try {
        if (next < this.chunks.length) {
          consumer.chunk(this.chunks[next++]!);
          this.timer = setTimeout(step, this.delayMs);
        } else if (this.failure) consumer.fail(this.failure);
        else consumer.end();
      } catch (error) {
        consumer.fail(error);
      }
    };
    step();
    return true;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    this.failed?.(error ?? new Error('destroyed'));
    callback(error);
  }
}

describe('LocalStorage.writeStream, a body that delivers its chunks', () => {
  const chunks = Array.from({ length: 20 }, (_, i) =>
    Buffer.alloc(50_000 + i, 0).map((_, j) => (i * 13 + j * 5) & 0xff),
  );

  it('copies it byte for byte over several writes', async () => {
    const path = join(dir, 'seg.m4s');
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(await storage.writeStream(path, new DirectBody(chunks, 0))).toBe(total);
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
    expect(await readdir(dir)).toEqual(['seg.m4s']);
  });

  it('a body failing after some of it is written leaves nothing behind', async () => {
    const error = await rejection(
      storage.writeStream(
        join(dir, 'x.ts'),
        new DirectBody(chunks, 1, new Error('connection reset')),
      ),
    );
    expect((error as StorageError).code).toBe('STORAGE_IO');
    expect((error as StorageError).message).toContain('connection reset');
    expect(await readdir(dir)).toEqual([]);
  });

  it('abort leaves neither the file nor a temporary file, and stops the body', async () => {
    const controller = new AbortController();
    const body = new DirectBody(chunks, 5);
    setTimeout(() => controller.abort(), 30);
    const error = await rejection(
      storage.writeStream(join(dir, 'seg.ts'), body, controller.signal),
    );
    expect((error as Error).name).toBe('AbortError');
    expect(body.destroyed).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('LocalStorage other methods', () => {
  it('ensureDir, exists, readFile', async () => {
    const nested = join(dir, 'a', 'b');
    await storage.ensureDir(nested);
    await storage.ensureDir(nested);
    expect(await storage.exists(nested)).toBe(true);
    expect(await storage.exists(join(dir, 'missing'))).toBe(false);
    await writeFile(join(dir, 'f'), 'x');
    expect(await storage.exists(join(dir, 'f', 'under-a-file'))).toBe(false);
    expect((await storage.readFile(join(dir, 'f'))).toString()).toBe('x');
    const error = await rejection(storage.readFile(join(dir, 'missing')));
    expect((error as StorageError).code).toBe('STORAGE_NOT_FOUND');
    const underFile = await rejection(storage.ensureDir(join(dir, 'f', 'sub')));
    expect(underFile).toBeInstanceOf(StorageError);
  });

  it('size: the bytes a file holds, and STORAGE_NOT_FOUND naming a missing one', async () => {
    const path = join(dir, 'seg.m4s');
    await storage.writeFile(path, Buffer.alloc(70_001, 7));
    expect(await storage.size(path)).toBe(70_001);
    await writeFile(path, '');
    expect(await storage.size(path)).toBe(0);
    const error = await rejection(storage.size(join(dir, 'missing.m4s')));
    expect((error as StorageError).code).toBe('STORAGE_NOT_FOUND');
    expect((error as StorageError).message).toContain('missing.m4s');
  });
});

describe('LocalStorage.openPatchable', () => {
  it('exclusive open of an existing file fails with STORAGE_EXISTS', async () => {
    const path = join(dir, 'info.xml');
    await writeFile(path, 'keep');
    const error = await rejection(storage.openPatchable(path, { create: 'exclusive' }));
    expect((error as StorageError).code).toBe('STORAGE_EXISTS');
    expect(await readFile(path, 'utf8')).toBe('keep');
  });

  it("'existing' refuses a missing file and never truncates", async () => {
    const path = join(dir, 'info.xml');
    const error = await rejection(storage.openPatchable(path, { create: 'existing' }));
    expect((error as StorageError).code).toBe('STORAGE_NOT_FOUND');
    await writeFile(path, 'abcdef');
    const file = await storage.openPatchable(path, { create: 'existing' });
    expect(await file.size()).toBe(6);
    await file.write(2, Buffer.from('XY'));
    await file.write(6, Buffer.from('!'));
    await file.close();
    await file.close();
    expect(await readFile(path, 'utf8')).toBe('abXYef!');
  });

  it('a patchable file writes in place and refuses every call once closed', async () => {
    const path = join(dir, 'patched.txt');
    await writeFile(path, 'abcdef');
    const file = await storage.openPatchable(path, { create: 'existing' });
    await file.write(2, Buffer.from('XY'));
    expect(await file.size()).toBe(6);
    await file.close();
    // A closed descriptor's number may already be another file's: nothing may go through it.
    const other = await storage.openPatchable(join(dir, 'other.txt'), { create: 'exclusive' });
    for (const call of [
      () => file.write(0, Buffer.from('Z')),
      () => file.size(),
      () => file.read(0, 1),
    ]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toContain(path);
    }
    expect(await readFile(path, 'utf8')).toBe('abXYef');
    expect(await other.size()).toBe(0);
    await other.close();
    await file.close(); // twice is fine
  });

  it('reads back through the open file: a range, short where the file ends, the file it opened', async () => {
    const path = join(dir, 'chunklist.m3u8');
    await writeFile(path, 'head\nsegments\n');
    const file = await storage.openPatchable(path, { create: 'existing' });
    try {
      await file.write(14, Buffer.from('more\n'));
      expect((await file.read(5, 9)).toString()).toBe('segments\n');
      expect((await file.read(5, 100)).toString()).toBe('segments\nmore\n');
      expect((await file.read(100, 10)).length).toBe(0);
      // Replaced by name since it was opened: the open file is still the one this writer holds.
      await storage.writeFile(path, 'other');
      expect((await file.read(0, 4)).toString()).toBe('head');
    } finally {
      await file.close();
    }
  });

  it('a full device gives STORAGE_FULL', async () => {
    const file = await storage.openPatchable('/dev/full', { create: 'existing' });
    try {
      const error = await rejection(file.write(0, Buffer.from('x')));
      expect((error as StorageError).code).toBe('STORAGE_FULL');
      expect((error as StorageError).message).toContain('/dev/full');
    } finally {
      await file.close();
    }
  });
});

describe('LocalStorage.prepareWrite', () => {
  it('makes the temporary now; commit fills it and renames it into place, once', async () => {
    const path = join(dir, 'final.m3u8');
    await writeFile(path, 'live');
    const prepared = await storage.prepareWrite(path);
    const [temporary] = (await readdir(dir)).filter((name) => name !== 'final.m3u8');
    expect(temporary).toMatch(/^\.final\.m3u8\.[0-9a-f]{12}\.tmp$/);
    const { ino } = await stat(join(dir, temporary!));
    expect(await prepared.commit('final form', { durable: true })).toBe(10);
    expect(await readFile(path, 'utf8')).toBe('final form');
    expect((await stat(path)).ino).toBe(ino);
    expect(await readdir(dir)).toEqual(['final.m3u8']);
    await expect(prepared.commit('again')).rejects.toBeInstanceOf(StorageError);
    expect(await readFile(path, 'utf8')).toBe('final form');
  });

  it('discard removes the temporary; only another storage (a next owner) takes one held for later', async () => {
    const discarded = await storage.prepareWrite(join(dir, 'a.xml'));
    await discarded.discard();
    expect(await readdir(dir)).toEqual([]);
    const held = await storage.prepareWrite(join(dir, 'b.xml'));
    expect(await storage.removeTemporaries(dir, 'b.xml')).toEqual([]);
    expect(await storage.removeTemporaries(dir)).toEqual([]);
    expect(await held.commit('b')).toBe(1);
    await storage.prepareWrite(join(dir, 'c.xml'));
    expect(await new LocalStorage().removeTemporaries(dir, 'c.xml')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['b.xml']);
  });

  it('a commit whose temporary is gone fails naming the file, and leaves nothing', async () => {
    const path = join(dir, 'c.m3u8');
    const prepared = await storage.prepareWrite(path);
    await new LocalStorage().removeTemporaries(dir);
    const error = await rejection(prepared.commit('x'));
    expect((error as StorageError).code).toBe('STORAGE_NOT_FOUND');
    expect((error as Error).message).toContain(path);
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with the storage error where the file cannot be made', async () => {
    const error = await rejection(storage.prepareWrite(join(dir, 'missing', 'd.m3u8')));
    expect((error as StorageError).code).toBe('STORAGE_NOT_FOUND');
  });
});

describe('LocalStorage.removeTemporaries', () => {
  it('removes what a writer killed mid-write left, and nothing else', async () => {
    // A write whose process died before the rename: its temporary file, named as tempPathFor does.
    const leftovers = [tempPathFor(join(dir, 'seg_1.m4s')), tempPathFor(join(dir, 'info.xml'))];
    for (const path of leftovers) await writeFile(path, 'partial');
    const kept = [
      'seg_1.m4s',
      '.hidden',
      'x.tmp',
      '.seg.m4s.nothex000000.tmp',
      '.a.0123456789ab.tmp.bak',
    ];
    for (const name of kept) await writeFile(join(dir, name), 'keep');

    expect(await storage.removeTemporaries(dir, 'seg_1.m4s')).toEqual([leftovers[0]]);
    expect(await storage.removeTemporaries(dir)).toEqual([leftovers[1]]);
    expect((await readdir(dir)).sort()).toEqual([...kept].sort());
    expect(await storage.removeTemporaries(join(dir, 'missing'))).toEqual([]);
  });
});
