export type { DumpStorage, PatchableFile, PreparedWrite } from './dump-storage.js';
export { LocalStorage, tempPathFor } from './local-storage.js';
export { StorageError, toStorageError } from './storage-error.js';
export type { StorageErrorCode } from './storage-error.js';
