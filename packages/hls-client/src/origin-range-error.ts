/** The origin answered a byte-range request (EXT-X-BYTERANGE) with something other than 206. */
export class OriginRangeError extends Error {
  readonly code = 'ORIGIN_RANGE_IGNORED';
  override name = 'OriginRangeError';
  readonly url: string;
  readonly status: number;

  constructor(url: string, status: number) {
    super(
      `origin answered HTTP ${status} instead of 206 to a byte-range request for ${url}: it does not serve byte ranges`,
    );
    this.url = url;
    this.status = status;
  }
}
