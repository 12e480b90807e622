import type { Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';

/** Why nothing is at a path: nothing there, or a file on the way. */
export type MissingReason = 'ENOENT' | 'ENOTDIR';

/**
 * The file system lookups of one start request, each made once: its checks walk the same
 * ancestors (the infoFile's usually lie under outputPath) and each would otherwise ask again,
 * most of them for paths that do not exist yet, whose failures are the dearest lookups.
 */
export class PathLookups {
  private readonly lstats = new Map<string, Promise<Stats | MissingReason>>();
  private readonly realpaths = new Map<string, Promise<string>>();

  /** lstat, or undefined when nothing is there (ENOENT, or ENOTDIR: a file on the way). */
  async lstat(path: string): Promise<Stats | undefined> {
    const entry = await this.lstatOrMissing(path);
    return typeof entry === 'string' ? undefined : entry;
  }

  /** lstat, or why nothing is there. */
  lstatOrMissing(path: string): Promise<Stats | MissingReason> {
    let entry = this.lstats.get(path);
    if (!entry) {
      entry = lstat(path).catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return code;
        throw error;
      });
      this.lstats.set(path, entry);
    }
    return entry;
  }

  realpath(path: string): Promise<string> {
    let real = this.realpaths.get(path);
    if (!real) this.realpaths.set(path, (real = realpath(path)));
    return real;
  }
}
