/** A text that is not the kind of playlist we asked for (or not a playlist at all). */
export class PlaylistParseError extends Error {
  readonly code = 'PLAYLIST_INVALID';
  override name = 'PlaylistParseError';
  readonly url: string;

  constructor(url: string, reason: string) {
    super(`invalid playlist ${url}: ${reason}`);
    this.url = url;
  }
}
