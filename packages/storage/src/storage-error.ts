/** Stable codes callers branch on (the engine maps them to dump errors and HTTP answers). */
export type StorageErrorCode =
  'STORAGE_FULL' | 'STORAGE_DENIED' | 'STORAGE_EXISTS' | 'STORAGE_NOT_FOUND' | 'STORAGE_IO';

/** Any failure of a storage operation; `cause` keeps the original error (usually a Node errno error). */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

const errnoCodes: Record<string, { code: StorageErrorCode; reason: string }> = {
  ENOSPC: { code: 'STORAGE_FULL', reason: 'no space is left on the device' },
  EDQUOT: { code: 'STORAGE_FULL', reason: 'the disk quota is exhausted' },
  EACCES: { code: 'STORAGE_DENIED', reason: 'permission was denied' },
  EPERM: { code: 'STORAGE_DENIED', reason: 'the operation is not permitted' },
  EROFS: { code: 'STORAGE_DENIED', reason: 'the file system is read-only' },
  EEXIST: { code: 'STORAGE_EXISTS', reason: 'the file already exists' },
  ENOENT: { code: 'STORAGE_NOT_FOUND', reason: 'the file or a parent directory does not exist' },
  ENOTDIR: { code: 'STORAGE_NOT_FOUND', reason: 'a parent of the path is not a directory' },
};

/**
 * Wraps whatever an fs call threw into a StorageError naming `path`; `action` is a verb phrase such
 * as "write" or "open". A StorageError passes through unchanged.
 */
export function toStorageError(error: unknown, action: string, path: string): StorageError {
  if (error instanceof StorageError) return error;
  const errno = errnoOf(error);
  const known = errno === undefined ? undefined : errnoCodes[errno];
  if (known) {
    return new StorageError(
      known.code,
      path,
      `Cannot ${action} ${path}: ${known.reason} (${errno}).`,
      {
        cause: error,
      },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new StorageError('STORAGE_IO', path, `Cannot ${action} ${path}: ${detail}`, {
    cause: error,
  });
}

function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
