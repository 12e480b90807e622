export { createTestOrigin, type TestOrigin, type TestOriginOptions } from './origin-server.js';
export type {
  StreamControl,
  StreamOptions,
  StreamMode,
  RenditionInfo,
  RenditionStatus,
  RequestRecord,
} from './live-stream.js';
export type { RequestKind } from './llhls-names.js';
export { createStreamClock, type StreamClock } from './stream-clock.js';
export {
  loadFixtures,
  DEFAULT_FIXTURES_DIR,
  RENDITION_IDS,
  type RenditionId,
  type FixtureRendition,
} from './fixtures.js';
export {
  iterateBoxes,
  childBoxes,
  readFragments,
  patchFragment,
  type BoxRef,
  type FragmentInfo,
  type FragmentPatch,
  type TrackFragmentTiming,
} from './fmp4-boxes.js';
export { serveDirectory, type ServedDirectory } from './static-server.js';
export {
  startFfmpegHlsFolder,
  startFfmpegLiveOrigin,
  type FfmpegHlsFolder,
  type FfmpegLiveOrigin,
  type FfmpegLiveOriginOptions,
} from './ffmpeg-origin.js';
export {
  serveFileOrigin,
  type FileOrigin,
  type FileOriginOptions,
  type FileOriginRequest,
} from './file-origin.js';
export { makeTestCertificates, type TestCertificates } from './test-ca.js';
export {
  KEY_SYSTEM_TAGS,
  makeStream,
  SAMPLE_AES_KEY,
  STREAM_KINDS,
  STREAM_SECONDS,
  type MadeStream,
  type StreamKind,
} from './stream-kinds.js';
export {
  FAULT_KINDS,
  createFaultServer,
  faultsFor,
  type FaultKind,
  type FaultRequest,
  type FaultServer,
  type FaultServerOptions,
  type RequestClass,
} from './fault-server.js';
export { randomFaults, seededRandom, type RandomFaultsOptions } from './random-faults.js';
