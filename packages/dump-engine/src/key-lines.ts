import { resolveUriAttributes } from './tag-uris.js';
import { tagAttributes } from '@hlsdump/hls-client';

export interface LocalKeyLines {
  lines: string[];
  /** Key systems the copy keeps as tags only: it plays only where their servers answer. */
  notices: { tag: string; message: string }[];
}

const URI_ATTRIBUTE = /([:,])URI="[^"]*"/;

/**
 * The EXT-X-KEY lines of a segment as the local chunklist writes them. AES-128 keys with the
 * identity key format are copied beside the segments (`copyKey` gives the local file) so the copy
 * plays offline. SAMPLE-AES, DRM key formats and non-HTTP URIs (skd://, data:) are kept as the
 * origin wrote them, a relative URI made absolute; a key that needs a server (the origin's or a
 * key system's license server) is told as a notice.
 */
export async function localKeyLines(
  lines: readonly string[],
  playlistUrl: string,
  copyKey: (url: string) => Promise<string>,
): Promise<LocalKeyLines> {
  const result: LocalKeyLines = { lines: [], notices: [] };
  for (const line of lines) {
    const attributes = tagAttributes(line);
    const method = attributes.get('METHOD') ?? '';
    const uri = attributes.get('URI');
    const keyFormat = attributes.get('KEYFORMAT') ?? 'identity';
    if (method === 'NONE' || uri === undefined) {
      result.lines.push(line);
      continue;
    }
    const absolute = new URL(uri, playlistUrl);
    const fetchable = absolute.protocol === 'http:' || absolute.protocol === 'https:';
    if (method === 'AES-128' && keyFormat === 'identity' && fetchable) {
      const file = await copyKey(absolute.href);
      result.lines.push(line.replace(URI_ATTRIBUTE, (_all, sep: string) => `${sep}URI="${file}"`));
      continue;
    }
    result.lines.push(resolveUriAttributes(line, playlistUrl));
    const needs = keyNeeds(absolute, fetchable, keyFormat);
    if (needs !== undefined) {
      result.notices.push({
        tag: 'EXT-X-KEY',
        message: `METHOD=${method} KEYFORMAT=${keyFormat} kept as is: ${needs}`,
      });
    }
  }
  return result;
}

/** What the copy still needs from outside to decrypt, or undefined when the tag holds the key. */
function keyNeeds(uri: URL, fetchable: boolean, keyFormat: string): string | undefined {
  if (fetchable)
    return `the copy plays only where ${uri.protocol}//${uri.host} answers for its key`;
  // An identity key in a data: URI is the key itself; a key system's data: URI is only its
  // initialization data (a PSSH), the key coming from that system's license server.
  if (uri.protocol === 'data:' && keyFormat === 'identity') return undefined;
  return `the copy plays only where a license server of ${keyFormat} answers`;
}
