export * from './dump-types.js';
export { DumpError, describeFailure } from './dump-error.js';
export { HlsDump, DEFAULT_DUMP_LIMITS } from './hls-dump.js';
export { sanitizeFileName, LocalNames } from './local-names.js';
export { Chunklist } from './chunklist.js';
export { renderHead, renderSegment, type ChunklistHeader } from './chunklist.js';
export { ChunklistFile } from './chunklist-file.js';
