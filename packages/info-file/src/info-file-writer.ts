import { isAbsolute } from 'node:path';
import type { DumpStorage, PatchableFile, PreparedWrite } from '@hlsdump/storage';
import { formatItemTime } from './format-item-time.js';
import type { InfoFileHeader, InfoFileStatus } from './info-file-document.js';
import {
  itemIndent,
  padOpener,
  padTail,
  renderDocument,
  renderHead,
  renderItem,
} from './info-file-layout.js';
import type { InfoFileHead } from './info-file-layout.js';
import { parseInfoFile } from './parse-info-file.js';

/** Smallest padding a rewrite leaves; later rewrites leave half the body, so they get rarer. */
const minPad = 16 * 1024;
const space = Buffer.from(' ');
const threeSpaces = Buffer.from('   ');
const bangDashDash = Buffer.from('!--');
const lessThan = Buffer.from('<');

export interface InfoFileWriterOptions {
  /** Clock for Items appended without an explicit time. */
  now?: () => Date;
}

/**
 * Keeps a dump's infoFile while the dump runs: the file is valid XML at every instant for a reader
 * that polls it, and appending an Item costs the same with 10 or 100 000 Items already listed.
 *
 * The Items end with a padding comment `<!--` + spaces + `-->`. An append writes the new Item inside
 * that comment, then moves the comment opener past it with single-byte and whitespace writes, each
 * of whose partial states is still well-formed (see `patch`). Only when the padding runs out is the
 * file rewritten (temporary file + rename) with padding of half its size, so the amortized cost
 * stays constant. Calls are serialized, so concurrent appends get consecutive Seq in call order.
 */
export class InfoFileWriter {
  readonly path: string;
  private readonly storage: DumpStorage;
  private readonly now: () => Date;
  private readonly header: InfoFileHeader;
  /**
   * The Items are not kept in memory (a day-long dump has over 100 000): a rewrite reads them back
   * from the file, where they are intact even after a failed patch. Only a resumed file whose
   * padding was torn gets its Items rendered from the parse, once.
   */
  private itemsToRender: string | undefined;
  private seq: number;
  private currentStatus: InfoFileStatus = 'Running';
  private file: PatchableFile | undefined;
  /** Byte offset of the padding comment's `<!--`, and the number of spaces inside it. */
  private padOffset = 0;
  private padLength = 0;
  /** The Files a resumed file listed when it was read, until `unlisted` asks (once). */
  private resumedFiles: Set<string> | undefined;
  /** A patch or rewrite failed half-way: the next append rewrites the whole file first. */
  private dirty = false;
  /** The final version's temporary file, once prepareFinish made it. */
  private finalWrite: Promise<PreparedWrite | undefined> | undefined;
  private finishing = false;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Appends waiting for the next write; they go to the file together (see append). */
  private batch: PendingItem[] = [];

  private constructor(
    storage: DumpStorage,
    path: string,
    header: InfoFileHeader,
    itemsToRender: string | undefined,
    nextSeq: number,
    options: InfoFileWriterOptions | undefined,
  ) {
    this.storage = storage;
    this.path = path;
    this.header = header;
    this.itemsToRender = itemsToRender;
    this.seq = nextSeq;
    this.now = options?.now ?? (() => new Date());
  }

  /** Creates the file with Status Running; StorageError STORAGE_EXISTS if it already exists. */
  static async create(
    storage: DumpStorage,
    path: string,
    header: InfoFileHeader,
    options?: InfoFileWriterOptions,
  ): Promise<InfoFileWriter> {
    if (typeof header.stream !== 'string') throw new TypeError('header.stream must be a string.');
    if (header.userData !== undefined && typeof header.userData !== 'string') {
      throw new TypeError('header.userData must be a string when given.');
    }
    const writer = new InfoFileWriter(storage, path, { ...header }, '', 0, options);
    // Exclusive and atomic: the file never exists empty or half-written.
    await writer.rewrite(true);
    return writer;
  }

  /**
   * Continues a Running file another writer left (a restarted or moved dump). Stream, userData,
   * Items and the next Seq come from the file itself; the padding is reused in place when it is
   * intact, otherwise (a writer stopped mid-append) the file is rewritten once.
   */
  static async resume(
    storage: DumpStorage,
    path: string,
    options?: InfoFileWriterOptions,
  ): Promise<InfoFileWriter> {
    const bytes = await storage.readFile(path);
    const document = parseInfoFile(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    if (document.status !== 'Running') {
      throw new Error(`Cannot resume ${path}: its Status is ${document.status}, not Running.`);
    }
    const header: InfoFileHeader = { stream: document.stream };
    if (document.userData !== undefined) header.userData = document.userData;
    const last = document.items[document.items.length - 1];
    const pad = findPad(bytes);
    const itemsToRender = pad
      ? undefined
      : document.items
          .map((item) => itemIndent + renderItem(item.seq, item.time, item.file))
          .join('');
    const writer = new InfoFileWriter(
      storage,
      path,
      header,
      itemsToRender,
      last ? last.seq + 1 : 0,
      options,
    );
    writer.resumedFiles = new Set(document.items.map((item) => item.file));
    if (pad) {
      const file = await storage.openPatchable(path, { create: 'existing' });
      writer.file = file;
      writer.padOffset = pad.offset;
      writer.padLength = pad.length;
      // Replaced since it was read (it should not be: one writer at a time): start clean.
      if ((await file.size()) !== bytes.length) writer.dirty = true;
    } else {
      await writer.rewrite(false);
    }
    return writer;
  }

  /**
   * Those of `files` the file did not list when it was resumed (a writer that died between writing
   * a file and listing it); every one for a file this writer created. Asked once: the set of listed
   * Files is dropped with the answer (a day-long dump lists over 100 000).
   */
  unlisted(files: readonly string[]): string[] {
    const listed = this.resumedFiles;
    this.resumedFiles = undefined;
    return listed ? files.filter((file) => !listed.has(file)) : [...files];
  }

  /** The Seq the next Item written gets (appends still queued are not counted). */
  get nextSeq(): number {
    return this.seq;
  }

  get status(): InfoFileStatus {
    return this.currentStatus;
  }

  /**
   * Lists a file that is completely on disk; returns the Seq it got, once its Item is in the file.
   * `time` defaults to now (taken at the call, not when the queued write runs). Appends made while
   * a write is in flight go to the file together in the next one: the renditions of a stream,
   * whose segments complete at the same moment, cost one patch instead of one each.
   */
  append(file: string, time?: Date): Promise<number> {
    if (this.finishing || this.closed) {
      return Promise.reject(
        new Error(
          `Cannot append to ${this.path}: the infoFile is ${this.closed ? 'closed' : 'finished'}.`,
        ),
      );
    }
    let timeText: string;
    try {
      timeText = itemTimeText(file, time ?? this.now());
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<number>((resolve, reject) => {
      this.batch.push({ file, timeText, resolve, reject });
      if (this.batch.length === 1) void this.enqueue(() => this.writeBatch());
    });
  }

  /**
   * Ends the file with Status Completed, or Error and its reason, in one atomic rewrite synced to
   * disk; appends called after this reject. `lastItems` (absolute paths, each with the time it was
   * complete) are listed in that same rewrite, after every Item appended before, rather than each
   * patched in first only to be rewritten at once; resolves with their Seq. If the rewrite fails
   * the file stays Running, without them, and finish may be called again.
   */
  finish(
    status: 'Completed' | 'Error',
    error?: string,
    lastItems: readonly { file: string; time: Date }[] = [],
  ): Promise<number[]> {
    if (this.finishing || this.closed) {
      return Promise.reject(
        new Error(
          `Cannot finish ${this.path}: the infoFile is already ${this.closed ? 'closed' : 'finished'}.`,
        ),
      );
    }
    if (status !== 'Completed' && status !== 'Error') {
      return Promise.reject(new TypeError(`Unknown final status ${String(status)}.`));
    }
    if (status === 'Completed' && error !== undefined) {
      return Promise.reject(new TypeError('An error reason goes only with Status Error.'));
    }
    let lastTexts: string[];
    try {
      lastTexts = lastItems.map(({ file, time }) => itemTimeText(file, time));
    } catch (failure) {
      return Promise.reject(failure);
    }
    this.finishing = true;
    return this.enqueue(async () => {
      const first = this.seq;
      const prepared = await this.takeFinalWrite();
      try {
        let items = await this.itemsText();
        const rendered = lastItems.map((item, i) =>
          renderItem(first + i, lastTexts[i]!, item.file),
        );
        if (rendered.length > 0) items += itemIndent + rendered.join(itemIndent);
        const { text } = renderDocument(this.head(status, error), items, undefined);
        if (prepared) await prepared.commit(text, { durable: true });
        else await this.storage.writeFile(this.path, text, { durable: true });
      } catch (failure) {
        // Nothing of a finish that failed stays beside the file (a failed commit removed its own).
        await prepared?.discard().catch(() => undefined);
        this.finishing = false;
        throw failure;
      }
      this.seq = first + lastItems.length;
      this.currentStatus = status;
      await this.releaseFile();
      return lastItems.map((_, i) => first + i);
    });
  }

  /**
   * Creates the final version's file now (DumpStorage.prepareWrite), so that finish, which comes
   * with a stop and often with many stops at once, creates none. Once; later calls do nothing.
   */
  prepareFinish(): void {
    if (this.finalWrite !== undefined || this.finishing || this.closed) return;
    this.finalWrite = this.storage.prepareWrite(this.path).catch(() => undefined);
  }

  /** Waits for queued work and releases the file; without finish the file stays Running. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await (await this.takeFinalWrite())?.discard().catch(() => undefined);
    await this.releaseFile();
  }

  private async takeFinalWrite(): Promise<PreparedWrite | undefined> {
    const prepared = await this.finalWrite;
    this.finalWrite = undefined;
    return prepared;
  }

  /** Writes every waiting Item, with consecutive Seq in call order, in one patch or rewrite. */
  private async writeBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    const first = this.seq;
    // Items after the first take the indentation the first gets from the comment opener it replaces.
    const items = batch
      .map((pending, i) => renderItem(first + i, pending.timeText, pending.file))
      .join(itemIndent);
    const bytes = Buffer.from(items, 'latin1'); // renderItem output is pure ASCII
    try {
      if (this.dirty || bytes.length + padOpener.length > this.padLength) {
        await this.rewrite(false, items);
      } else {
        await this.patch(bytes);
      }
    } catch (error) {
      this.dirty = true;
      for (const pending of batch) pending.reject(error);
      return;
    }
    this.seq = first + batch.length;
    batch.forEach((pending, i) => pending.resolve(first + i));
  }

  /**
   * Moves the padding comment past the new Items `x` (one or more Item lines) with five writes, each of which leaves
   * well-formed XML in every partial state (o = padOffset, n = x.length):
   *  1. x at o+4, inside the comment: any mix of x and spaces is comment text (x holds no `--`);
   *  2. ' ' over `<` at o (one byte): the comment is gone, x is live, `!--` and `-->` are text;
   *  3. spaces over `!--` at o+1: text becomes whitespace;
   *  4. `!--` at o+4+n+1, in the whitespace after x: still text in any mix;
   *  5. `<` at o+4+n (one byte): a new comment opens and runs to the old `-->`.
   * No write changes the file size, so a reader never sees a length ahead of the data.
   */
  private async patch(x: Buffer): Promise<void> {
    const file = this.file;
    if (!file) throw new Error(`${this.path} is not open.`);
    const o = this.padOffset;
    const n = x.length;
    await file.write(o + 4, x);
    await file.write(o, space);
    await file.write(o + 1, threeSpaces);
    await file.write(o + 4 + n + 1, bangDashDash);
    await file.write(o + 4 + n, lessThan);
    this.padOffset = o + 4 + n;
    this.padLength -= n + 4;
  }

  /**
   * Renders the whole Running file, with `extraItems` (Item lines joined by the indentation) after the Items it has and fresh padding,
   * replaces it atomically and reopens it.
   */
  private async rewrite(exclusive: boolean, extraItems?: string): Promise<void> {
    let items = await this.itemsText();
    if (extraItems !== undefined) items += itemIndent + extraItems;
    const pad = Math.max(minPad, Math.floor(items.length / 2));
    const { text, padOffset } = renderDocument(this.head('Running'), items, pad);
    // The padding is what later appends patch, a few bytes at a time.
    await this.storage.writeFile(this.path, text, { exclusive, patchedFrom: padOffset });
    this.itemsToRender = undefined;
    // The old handle points at the replaced file; everything from now on goes to the new one.
    const file = await this.storage.openPatchable(this.path, { create: 'existing' });
    await this.releaseFile();
    this.file = file;
    this.padOffset = padOffset;
    this.padLength = pad;
    this.dirty = false;
  }

  /** Every Item line, indented, as the file holds them between its head and the padding. */
  private async itemsText(): Promise<string> {
    if (this.itemsToRender !== undefined) return this.itemsToRender;
    const start = renderHead(this.head('Running')).length;
    // Through the file this writer holds open, when it does: one read instead of an open by name.
    const bytes = this.file
      ? await this.file.read(start, this.padOffset - start)
      : (await this.storage.readFile(this.path)).subarray(start, this.padOffset);
    // The file is pure ASCII (renderItem and renderHead escape everything else), so latin1 is exact.
    return bytes.toString('latin1');
  }

  private head(status: InfoFileStatus, error?: string): InfoFileHead {
    return { stream: this.header.stream, userData: this.header.userData, status, error };
  }

  private async releaseFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Finds an intact padding comment: `<!--`, spaces only, then exactly the closing tail. */
function findPad(bytes: Buffer): { offset: number; length: number } | undefined {
  const tail = Buffer.from(padTail, 'latin1');
  if (bytes.length < tail.length + padOpener.length) return undefined;
  if (!bytes.subarray(bytes.length - tail.length).equals(tail)) return undefined;
  const offset = bytes.lastIndexOf(padOpener, bytes.length - tail.length, 'latin1');
  if (offset === -1) return undefined;
  const end = bytes.length - tail.length;
  for (let i = offset + padOpener.length; i < end; i++) if (bytes[i] !== 0x20) return undefined;
  // The opener must start a line, as renderDocument puts it, so Items keep their indentation.
  if (bytes[offset - 1] !== 0x0a) return undefined;
  return { offset, length: end - offset - padOpener.length };
}

interface PendingItem {
  file: string;
  timeText: string;
  resolve: (seq: number) => void;
  reject: (error: unknown) => void;
}

/** An Item's `<Time>` text, once its file is known to be an absolute path (else a TypeError). */
function itemTimeText(file: string, time: Date): string {
  if (typeof file !== 'string' || !isAbsolute(file))
    throw new TypeError(`An infoFile Item needs an absolute path, got ${JSON.stringify(file)}.`);
  return formatItemTime(time);
}
