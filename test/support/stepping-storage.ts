import { LocalStorage, type PatchableFile } from '@hlsdump/storage';

/**
 * The real disk, with a pause between the positional writes of a patch (a chunklist append, an
 * infoFile Item). Those writes are synchronous and follow each other within microseconds, so a
 * reader polling the file would almost never catch one half done; here each partial state lasts a
 * round trip through libuv's thread pool, as on a slower disk, and a reader sees many of them.
 */
export class SteppingStorage extends LocalStorage {
  override async openPatchable(
    path: string,
    mode: { create: 'exclusive' | 'existing' },
  ): Promise<PatchableFile> {
    const file = await super.openPatchable(path, mode);
    return {
      path: file.path,
      size: () => file.size(),
      sync: () => file.sync(),
      close: () => file.close(),
      async write(offset, data) {
        await file.write(offset, data);
        await file.size();
      },
    };
  }
}
