import type { DumpFailureInfo } from '@hlsdump/contracts';
import { InfoFileWriter } from '@hlsdump/info-file';
import { LocalStorage } from '@hlsdump/storage';

/**
 * A poison dump: its runs keep dying together with the worker that runs them (a crash the process
 * cannot contain). After `POISON_AFTER_CRASHES` such deaths in a row the next worker ends it in
 * Error instead of starting it again, so it stops taking its neighbours down worker after worker.
 */
export const POISON_DUMP_CODE = 'POISON_DUMP';

export function poisonFailure(crashes: number): DumpFailureInfo {
  return {
    code: POISON_DUMP_CODE,
    message:
      `The dump's last ${crashes} runs died together with the worker running them; ` +
      'it is not started again.',
  };
}

/** Finishes the Running infoFile a dead run left: Status Error, with the reason in `<Error>`. */
export async function failInfoFile(path: string, reason: string): Promise<void> {
  const writer = await InfoFileWriter.resume(new LocalStorage(), path);
  await writer.finish('Error', reason);
}
