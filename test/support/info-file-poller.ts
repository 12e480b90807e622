import { startReaderThread } from './reader-thread.ts';

export interface InfoFilePollResult {
  reads: number;
  invalid: number;
  firstInvalid?: { error: unknown; tail: string };
}

/** Starts a reader thread polling the infoFile; `stop()` returns how many reads were invalid XML. */
export function pollInfoFile(path: string): { stop: () => Promise<InfoFilePollResult> } {
  return startReaderThread(new URL('./info-file-poller.mjs', import.meta.url), { path });
}
