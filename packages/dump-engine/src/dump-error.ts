import type { OriginAnswerCode } from '@hlsdump/hls-client';
import type { StorageErrorCode } from '@hlsdump/storage';

/** The codes the engine itself raises; each names a condition the caller may answer. */
export type DumpErrorCode =
  | 'STREAM_NOT_FOUND'
  | 'PLAYLIST_INVALID'
  | 'FROM_INVALID'
  | 'FROM_NOT_SUPPORTED'
  | 'FROM_OUT_OF_WINDOW'
  | 'INFO_FILE_EXISTS'
  | 'CHECKPOINT_MISMATCH'
  | 'ORIGIN_FILE_TOO_LARGE'
  | 'ORIGIN_CA_UNREADABLE'
  | 'DUMP_STOPPED'
  | 'DUMP_SUSPENDED'
  | 'DUMP_FENCED';

/** The codes of the origin client's errors, which reach a dump's failure unchanged. */
export type OriginFailureCode =
  | 'ORIGIN_HTTP_STATUS'
  | 'ORIGIN_NETWORK'
  | 'ORIGIN_TIMEOUT'
  | 'ORIGIN_UNREACHABLE'
  | 'ORIGIN_RANGE_IGNORED'
  | 'STREAM_GONE'
  | OriginAnswerCode;

/**
 * The codes the engine knows a failure by; `INTERNAL` is whatever threw without a code of its own.
 * The cluster's protocol lists them all (`contracts/dump-failure-codes.ts`; the worker checks it).
 */
export type EngineFailureCode = DumpErrorCode | StorageErrorCode | OriginFailureCode | 'INTERNAL';

/** A dump could not start or had to end; `code` is stable and mapped to HTTP answers by the gateway. */
export class DumpError extends Error {
  constructor(
    readonly code: EngineFailureCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DumpError';
  }

  /**
   * A start failure as the engine reports it: its own error, or what a part below threw with that
   * part's code. A file that already exists at start is the infoFile (every other file is created
   * in an empty or new outputPath): OME's "Duplicate info file".
   */
  static from(error: unknown): DumpError {
    if (error instanceof DumpError) return error;
    const { code, message } = describeFailure(error);
    // The parts below type their own codes; another code (Node's errno) is passed on as it came.
    const known = (code === 'STORAGE_EXISTS' ? 'INFO_FILE_EXISTS' : code) as EngineFailureCode;
    return new DumpError(known, message, { cause: error });
  }
}

/** Whether `error` is the engine's own error with this code. */
export function isDumpError(error: unknown, code: DumpErrorCode): error is DumpError {
  return error instanceof DumpError && error.code === code;
}

/** The `code` an error carries, if any (ours, the storage's, the origin client's, Node's errno). */
function failureCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The one place whatever a part of the engine threw becomes a code and a sentence, for the status,
 * the infoFile and the worker's record.
 */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof Error)
    return { code: failureCodeOf(error) ?? 'INTERNAL', message: error.message };
  return { code: 'INTERNAL', message: String(error) };
}
