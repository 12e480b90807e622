import { mkdir, open, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { StorageError, toStorageError } from './storage-error.js';

/** Runs a real fs call and returns the error the OS produced. */
async function osError(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the OS to refuse');
}

describe('toStorageError', () => {
  it('maps real OS errors to stable codes', async () => {
    const cases: [unknown, string][] = [
      [await osError(() => writeFile('/dev/full', 'x')), 'STORAGE_FULL'],
      [await osError(() => open('/sys/hlsdump-test', 'wx')), 'STORAGE_DENIED'],
      [await osError(() => open('/proc/version/x', 'wx')), 'STORAGE_NOT_FOUND'],
      [await osError(() => open('/nonexistent-hlsdump/x', 'r')), 'STORAGE_NOT_FOUND'],
      [await osError(() => mkdir('/proc')), 'STORAGE_EXISTS'],
      [await osError(() => open('/proc/self', 'w')), 'STORAGE_IO'],
    ];
    for (const [cause, code] of cases) {
      const error = toStorageError(cause, 'write', '/some/path');
      expect(error).toBeInstanceOf(StorageError);
      expect(error.code, String(cause)).toBe(code);
      expect(error.cause).toBe(cause);
      expect(error.path).toBe('/some/path');
      expect(error.message).toMatch(/^Cannot write \/some\/path: /);
    }
  });

  it('maps the errno codes the OS does not easily produce here', () => {
    const expected: Record<string, string> = {
      EDQUOT: 'STORAGE_FULL',
      EPERM: 'STORAGE_DENIED',
      EROFS: 'STORAGE_DENIED',
      EACCES: 'STORAGE_DENIED',
      EIO: 'STORAGE_IO',
    };
    for (const [errno, code] of Object.entries(expected)) {
      const error = toStorageError(Object.assign(new Error('x'), { code: errno }), 'read', '/p');
      expect(error.code).toBe(code);
    }
    expect(toStorageError('weird', 'read', '/p').code).toBe('STORAGE_IO');
  });

  it('passes a StorageError through unchanged', () => {
    const original = new StorageError('STORAGE_FULL', '/a', 'full');
    expect(toStorageError(original, 'write', '/b')).toBe(original);
  });
});
