export { DEFAULT_RETRY_POLICY, parseRetryAfterMs, retryDelayMs } from './retry-policy.js';
export type { RetryPolicy } from './retry-policy.js';
export {
  OriginAnswerError,
  OriginHttpError,
  OriginNetworkError,
  OriginTimeoutError,
  OriginUnreachableError,
  StreamGoneError,
  isOriginNotFound,
  isOriginUnavailable,
  isRetryable,
} from './origin-errors.js';
export type { OriginAnswerCode } from './origin-errors.js';
export { DEFAULT_MAX_PLAYLIST_BYTES, OriginClient } from './origin-client.js';
export { OriginConnections } from './origin-connections.js';
export type { ConnectionSettings } from './origin-connections.js';
export type {
  DownloadInfo,
  GetTextOptions,
  OriginClientOptions,
  OriginRequestEvent,
  ResponseHeaders,
  RetryEvent,
} from './origin-client.js';
export { PlaylistParseError } from './playlist-parse-error.js';
export { MediaSegment, PartialSegment, RenditionDetails } from './rendition-details.js';
export type { ByteRange, PlaylistChange, SegmentKey, SegmentMap } from './rendition-details.js';
export { parseMediaPlaylist } from './media-playlist.js';
export { isMasterPlaylist, parseMasterPlaylist, rewritePlaylistUris } from './master-playlist.js';
export type {
  AlternateMedia,
  AlternateMediaType,
  MasterPlaylist,
  Variant,
} from './master-playlist.js';
export { RenditionLoader, withBlockingParams } from './playlist-loader.js';
export type { LoaderLimits, RenditionLoaderOptions } from './playlist-loader.js';
export { abortableDelay } from './abortable-delay.js';
export { detached } from './detached.js';
export { playlistTagLines, tagAttributes, tagName } from './segment-tag-lines.js';
export type { PlaylistTagLines, SegmentTagLines } from './segment-tag-lines.js';
export { OriginRangeError } from './origin-range-error.js';
export type { RequestRange } from './origin-client.js';
