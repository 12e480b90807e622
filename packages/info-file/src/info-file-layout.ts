import type { InfoFileStatus } from './info-file-document.js';
import { xmlElement } from './xml-text.js';

/**
 * The byte layout the writer patches. Every Item line is four spaces of indentation plus
 * `renderItem(...)`; while Running, the Items end with the padding comment at column 0:
 *
 *     <!--␣␣␣…␣␣␣-->\n  </Items>\n</HLSDumpInfo>\n
 *
 * Appending turns the comment opener into the next Item's indentation, so a patched file and a
 * freshly rendered one are byte for byte the same apart from the padding length.
 */
export const itemIndent = '    ';
export const padOpener = '<!--';
export const padTail = '-->\n  </Items>\n</HLSDumpInfo>\n';
const closing = '  </Items>\n</HLSDumpInfo>\n';

export interface InfoFileHead {
  stream: string;
  userData?: string | undefined;
  status: InfoFileStatus;
  error?: string | undefined;
}

/** One Item line without its indentation: `<Item>…</Item>\n`. Pure ASCII, holds no `--`. */
export function renderItem(seq: number, time: string, file: string): string {
  return `<Item>${xmlElement('Seq', String(seq))}${xmlElement('Time', time)}${xmlElement('File', file)}</Item>\n`;
}

/** Everything before the first Item. */
export function renderHead(head: InfoFileHead): string {
  let text = '<?xml version="1.0" encoding="UTF-8"?>\n<HLSDumpInfo>\n';
  if (head.userData !== undefined) text += `  ${xmlElement('UserData', head.userData)}\n`;
  text += `  ${xmlElement('Stream', head.stream)}\n`;
  text += `  ${xmlElement('Status', head.status)}\n`;
  if (head.status === 'Error') text += `  ${xmlElement('Error', head.error ?? '')}\n`;
  return `${text}  <Items>\n`;
}

/**
 * The whole document. `items` is every Item line with its indentation, as the file holds them.
 * `pad` is the number of spaces in the padding comment, or undefined for a finished file that will
 * not grow. Returns the text and the character offset of the comment opener (all ASCII, so also
 * the byte offset).
 */
export function renderDocument(
  head: InfoFileHead,
  items: string,
  pad: number | undefined,
): { text: string; padOffset: number } {
  const prefix = renderHead(head) + items;
  const end = pad === undefined ? closing : `${padOpener}${' '.repeat(pad)}${padTail}`;
  return { text: prefix + end, padOffset: prefix.length };
}
