/**
 * Every code a dump's failure can carry from the worker (the engine's own, the storage's and the
 * origin client's) to the registry, the events and the API. The record keeps the code as a string
 * (a newer worker may know more); the worker checks at compile time that the engine reports none
 * missing here, and the gateway's `http-errors.ts` answers from this list.
 */
export const DUMP_FAILURE_CODES = [
  // The engine's (`dump-engine/dump-error.ts`).
  'STREAM_NOT_FOUND',
  'PLAYLIST_INVALID',
  'FROM_INVALID',
  'FROM_NOT_SUPPORTED',
  'FROM_OUT_OF_WINDOW',
  'INFO_FILE_EXISTS',
  'CHECKPOINT_MISMATCH',
  'CHECKPOINT_INVALID',
  'ORIGIN_FILE_TOO_LARGE',
  'ORIGIN_CA_UNREADABLE',
  'DUMP_STOPPED',
  'DUMP_SUSPENDED',
  'DUMP_FENCED',
  'POISON_DUMP',
  // Storage's (`storage/storage-error.ts`).
  'STORAGE_FULL',
  'STORAGE_DENIED',
  'STORAGE_EXISTS',
  'STORAGE_NOT_FOUND',
  'STORAGE_IO',
  // The origin client's (`hls-client/origin-errors.ts`).
  'ORIGIN_HTTP_STATUS',
  'ORIGIN_NETWORK',
  'ORIGIN_TIMEOUT',
  'ORIGIN_UNREACHABLE',
  'ORIGIN_RANGE_IGNORED',
  'ORIGIN_BODY_TOO_LARGE',
  'ORIGIN_CONTENT_ENCODING',
  'ORIGIN_PARTIAL_CONTENT',
  'ORIGIN_HTML_PAGE',
  'ORIGIN_HEADERS_TOO_LARGE',
  'ORIGIN_BODY_TOO_SLOW',
  'ORIGIN_REDIRECT_LOOP',
  'STREAM_GONE',
  /** Whatever threw without a code of its own: a bug, not a condition. */
  'INTERNAL',
] as const;
export type DumpFailureCode = (typeof DUMP_FAILURE_CODES)[number];

/** What a failure says when whoever reported it gave no reason (an event without its error). */
export const UNKNOWN_FAILURE: { code: DumpFailureCode; message: string } = {
  code: 'INTERNAL',
  message: 'unknown',
};
