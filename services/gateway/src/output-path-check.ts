import { readdir, stat } from 'node:fs/promises';
import type { OutputPathLocks } from '@hlsdump/contracts';
import { OutputPathInUseError, OutputPathIsFileError, OutputPathNotEmptyError } from './errors.js';

/**
 * Check 8 of docs/api.md#start-checks, as far as the gateway can judge it before the start: the active dump that
 * holds the path is named first, then what is on disk (a file; a directory with anything in it;
 * an empty or missing directory is fine). Two starts racing past this both try to take the path
 * in Redis (DumpService.start); one of them is refused there.
 */
export async function checkOutputPathFree(
  outputPath: string,
  locks: OutputPathLocks | undefined,
): Promise<void> {
  const holder = await locks?.holder(outputPath);
  if (holder) throw new OutputPathInUseError(outputPath, holder);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(outputPath)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new OutputPathIsFileError(outputPath);
    throw error;
  }
  if (!isDirectory) throw new OutputPathIsFileError(outputPath);
  if ((await readdir(outputPath)).length > 0) throw new OutputPathNotEmptyError(outputPath);
}
