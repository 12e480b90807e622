import { readdir, stat } from 'node:fs/promises';
import { OutputPathIsFileError, OutputPathNotEmptyError } from './errors.js';
import { PathLookups } from './path-lookups.js';

// Check 8 of docs/api.md#start-checks, as far as the gateway can judge it before the start: the
// active dump that holds the path is named first (OutputPathLocks.holder, asked by the start
// route), then what is on disk (checkOutputPathOnDisk). Two starts racing past this both try to
// take the path in Redis (DumpService.start); one of them is refused there.

/**
 * What is on disk at outputPath: nothing, or an empty directory. `lookups` are the request's own:
 * the path policy has already looked at outputPath, so a path that is not there costs nothing more.
 */
export async function checkOutputPathOnDisk(
  outputPath: string,
  lookups = new PathLookups(),
): Promise<void> {
  const entry = await lookups.lstatOrMissing(outputPath);
  if (entry === 'ENOENT') return;
  if (entry === 'ENOTDIR') throw new OutputPathIsFileError(outputPath);
  // A symbolic link is judged by what it points to.
  let isDirectory = entry.isDirectory();
  if (entry.isSymbolicLink()) {
    try {
      isDirectory = (await stat(outputPath)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'ENOTDIR') throw new OutputPathIsFileError(outputPath);
      throw error;
    }
  }
  if (!isDirectory) throw new OutputPathIsFileError(outputPath);
  if ((await readdir(outputPath)).length > 0) throw new OutputPathNotEmptyError(outputPath);
}
