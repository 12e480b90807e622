import type { Readable } from 'node:stream';

/**
 * Every write hlsdump makes to a dump's output goes through this interface, so the engine never
 * touches the filesystem itself. Local disk today; object storage is planned.
 *
 * Paths are absolute. Whole-file writes are atomic: a reader sees the old file or the new one,
 * never a partial one, and a failed write leaves no file behind under the final name.
 */
export interface DumpStorage {
  /** Creates the directory and its parents; fine if it exists. */
  ensureDir(dir: string): Promise<void>;
  /**
   * Writes a whole file atomically (temporary file + rename). Returns the bytes written.
   * `exclusive: true` fails with StorageError STORAGE_EXISTS instead of replacing an existing file,
   * still atomically: the file appears complete or not at all (the infoFile's first version must be
   * valid XML for a reader that polls it from the first instant). `durable: true` flushes the bytes
   * to stable storage before the file takes its name (the infoFile's final version).
   * `patchedFrom`: the bytes from this offset on will be patched in place with small writes (an
   * infoFile's padding), so they are written a few pages at a time: written at once, Linux may
   * cache them in pages of megabytes, and then each small write costs as much as its page is large.
   */
  writeFile(
    path: string,
    data: string | Uint8Array,
    options?: { exclusive?: boolean; durable?: boolean; patchedFrom?: number },
  ): Promise<number>;
  /**
   * Creates now the temporary file of a later whole-file write of `path`, so that write creates
   * no file when it comes: a dump's final chunklists and infoFile, written when a burst of stops
   * arrives, where a file's creation is the costliest step (a network file system's round trip).
   * Until committed or discarded, this storage's removeTemporaries leaves it; to any other it is
   * a temporary like any other. So a storage serves one dump run: a dump's next owner, even in
   * the same process, removes what the former one prepared.
   */
  prepareWrite(path: string): Promise<PreparedWrite>;
  /**
   * Streams a body to a temporary file and renames it into place once the body ended.
   * Aborting the signal, or an error of the body, removes the temporary file. Returns the bytes written.
   */
  writeStream(
    path: string,
    body: Readable | AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<number>;
  exists(path: string): Promise<boolean>;
  /** The names of the entries of directory `dir`. */
  list(dir: string): Promise<string[]>;
  /**
   * Removes the temporary files a writer killed mid-write left in `dir` (of every file, or only
   * of `name`). Returns the paths removed. A dump's new owner calls it, so no partial file stays
   * beside the dump for an uploader to copy.
   */
  removeTemporaries(dir: string, name?: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  /** A file's length in bytes, without reading it (a resumed dump counts its segments' bytes). */
  size(path: string): Promise<number>;
  /**
   * Opens a file for in-place writes at offsets (the infoFile). `create: 'exclusive'` fails with
   * StorageError code STORAGE_EXISTS when the file exists; `'existing'` opens one that exists.
   */
  openPatchable(path: string, mode: { create: 'exclusive' | 'existing' }): Promise<PatchableFile>;
}

export interface PatchableFile {
  readonly path: string;
  /** Current size in bytes. */
  size(): Promise<number>;
  /**
   * Writes `data` at `offset`: one positional write (repeated only for what the OS left unwritten);
   * may extend the file.
   */
  write(offset: number, data: Uint8Array): Promise<void>;
  /**
   * Reads `length` bytes from `offset` through the open file: what this writer wrote, without
   * opening the file again by name. Fewer bytes only where the file ends.
   */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** A whole-file write of one path whose temporary file already exists (DumpStorage.prepareWrite). */
export interface PreparedWrite {
  /** Writes the whole file as writeFile does, through the prepared temporary. Once only. */
  commit(data: string | Uint8Array, options?: { durable?: boolean }): Promise<number>;
  /** Removes the temporary unwritten; nothing else is left of it. */
  discard(): Promise<void>;
}
