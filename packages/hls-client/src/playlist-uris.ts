import { resolveUri } from './m3u8-text.js';

/** A name the URL parser takes as it is: no scheme, path, query, escape or dot segment in it. */
const PLAIN_NAME = /^[A-Za-z0-9_\-.~]+$/;
const PLAIN_BASE_SCHEMES = new Set(['http:', 'https:', 'file:']);

/**
 * Resolves the URIs of one playlist against its URL. A playlist names its segments and parts,
 * dozens a reload, mostly by plain file names beside it: those are the playlist's folder followed
 * by the name, which is what the URL parser makes of them, without parsing each. Anything else goes
 * through the parser (resolveUri).
 */
export function playlistUriResolver(base: string): (uri: string) => string {
  let folder: string | undefined | null;
  return (uri) => {
    if (typeof uri === 'string' && uri !== '.' && uri !== '..' && PLAIN_NAME.test(uri)) {
      folder ??= folderOf(base);
      if (folder !== null) return folder + uri;
    }
    return resolveUri(uri, base);
  };
}

/** The URL of the folder `base` is in, or null when plain names cannot be joined to it. */
function folderOf(base: string): string | null {
  try {
    const url = new URL('.', base);
    return PLAIN_BASE_SCHEMES.has(url.protocol) && url.href.endsWith('/') ? url.href : null;
  } catch {
    return null;
  }
}
