import type { Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';

/** Why nothing is at a path: nothing there, or a file on the way. */
export type MissingReason = 'ENOENT' | 'ENOTDIR';

/**
 * The file system lookups of one start request, each made once: its checks walk the same
 * ancestors (the infoFile's usually lie under outputPath) and each would otherwise ask again,
 * most of them for paths that do not exist yet, whose failures are the dearest lookups.
 *
 * A lookup another request has in flight is joined, not made again: a burst of starts walks the
 * same ancestors at the same moment (each a hand-off to the thread pool and back). Its answer is
 * older than the request's own would be by less than the lookup's own time; nothing is kept once
 * it is answered, so the next burst looks again.
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
      entry = joined(lstatsInFlight, path, () =>
        lstat(path).catch((error: unknown) => {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ENOTDIR') return code;
          throw error;
        }),
      );
      this.lstats.set(path, entry);
    }
    return entry;
  }

  realpath(path: string): Promise<string> {
    let real = this.realpaths.get(path);
    if (!real)
      this.realpaths.set(path, (real = joined(realpathsInFlight, path, () => realpath(path))));
    return real;
  }
}

const lstatsInFlight = new Map<string, Promise<Stats | MissingReason>>();
const realpathsInFlight = new Map<string, Promise<string>>();

/** The lookup of `path` in flight, or a new one, forgotten once it is answered. */
function joined<T>(
  inFlight: Map<string, Promise<T>>,
  path: string,
  look: () => Promise<T>,
): Promise<T> {
  let pending = inFlight.get(path);
  if (!pending) {
    pending = look();
    inFlight.set(path, pending);
    const forget = () => inFlight.delete(path);
    pending.then(forget, forget);
  }
  return pending;
}
