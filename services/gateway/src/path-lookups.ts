import type { Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';

/**
 * The file system lookups of one start request, each made once: its checks walk the same
 * ancestors (the infoFile's usually lie under outputPath) and each would otherwise ask again,
 * most of them for paths that do not exist yet, whose failures are the dearest lookups.
 */
export class PathLookups {
  private readonly lstats = new Map<string, Promise<Stats | undefined>>();
  private readonly realpaths = new Map<string, Promise<string>>();

  /** lstat, or undefined when nothing is there (ENOENT, or ENOTDIR: a file on the way). */
  lstat(path: string): Promise<Stats | undefined> {
    let stats = this.lstats.get(path);
    if (!stats) {
      stats = lstat(path).catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw error;
      });
      this.lstats.set(path, stats);
    }
    return stats;
  }

  realpath(path: string): Promise<string> {
    let real = this.realpaths.get(path);
    if (!real) this.realpaths.set(path, (real = realpath(path)));
    return real;
  }
}
