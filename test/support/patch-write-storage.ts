import { LocalStorage, type PatchableFile } from '@hlsdump/storage';

/** Runs one positional write of a patchable file (`write()`), and may act around it. */
export type PatchWriteHook = (write: () => Promise<void>, file: PatchableFile) => Promise<void>;

/**
 * The real disk, with a hook around each positional write of its patchable files (a chunklist
 * append, an infoFile Item): to count them, pace them, or make one fail as a full disk would.
 */
export class PatchWriteStorage extends LocalStorage {
  readonly #hook: PatchWriteHook;

  constructor(hook: PatchWriteHook) {
    super();
    this.#hook = hook;
  }

  override async openPatchable(
    path: string,
    mode: { create: 'exclusive' | 'existing' },
  ): Promise<PatchableFile> {
    const file = await super.openPatchable(path, mode);
    const hook = this.#hook;
    return {
      path: file.path,
      size: () => file.size(),
      read: (offset, length) => file.read(offset, length),
      close: () => file.close(),
      write: (offset, data) => hook(() => file.write(offset, data), file),
    };
  }
}

/**
 * A pause between the positional writes of a patch. Those writes are synchronous and follow each
 * other within microseconds, so a reader polling the file would almost never catch one half done;
 * here each partial state lasts a round trip through libuv's thread pool, as on a slower disk,
 * and a reader sees many of them.
 */
export function steppingStorage(): PatchWriteStorage {
  return new PatchWriteStorage(async (write, file) => {
    await write();
    await file.size();
  });
}
