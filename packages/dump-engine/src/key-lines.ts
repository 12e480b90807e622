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
 * origin wrote them, a relative URI made absolute; a key that needs a server is told as a notice.
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
    if (absolute.protocol !== 'data:') {
      result.notices.push({
        tag: 'EXT-X-KEY',
        message: `METHOD=${method} KEYFORMAT=${keyFormat} kept as is: the copy plays only where ${absolute.protocol}//${absolute.host} answers for its key`,
      });
    }
  }
  return result;
}
