import type { ByteRange } from '@hlsdump/hls-client';

/**
 * The URL a byte range of `url` is named after locally. Each range is copied to a file of its own
 * (`stream.ts` bytes 1000..1499 → `stream_1000-1499.ts`), so the local chunklist needs no
 * EXT-X-BYTERANGE and a dump that starts mid-resource holds no holes. The query stays: it is
 * dropped by the file naming, not here.
 */
export function rangeNamedUrl(url: string, range: ByteRange | undefined): string {
  if (range === undefined) return url;
  const parsed = new URL(url);
  const slash = parsed.pathname.lastIndexOf('/');
  const base = parsed.pathname.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const extension = dot > 0 ? base.slice(dot) : '';
  const suffix = `_${range.offset}-${range.offset + range.length - 1}`;
  parsed.pathname = parsed.pathname.slice(0, slash + 1) + stem + suffix + extension;
  return parsed.href;
}
