export * from './dump-types.js';
export { DumpError, describeFailure, type EngineFailureCode } from './dump-error.js';
export { HlsDump, DEFAULT_DUMP_LIMITS } from './hls-dump.js';
export { sanitizeFileName, LocalNames } from './local-names.js';
export { Chunklist } from './chunklist.js';
export { originClientFor } from './origin-client-for.js';
export { DurationLimit, type DurationLimitState } from './duration-limit.js';
export {
  parseStartFrom,
  segmentAtTime,
  oldestCommonSegment,
  type StartFrom,
} from './start-position.js';
export { renderHead, type ChunklistHeader } from './chunklist.js';
export { segmentLines } from './segment-lines.js';
export { ChunklistFile } from './chunklist-file.js';
