import XMLBuilder from 'fast-xml-builder';

// Characters XML 1.0 forbids anywhere, even as character references (C0 controls other than tab,
// newline and carriage return, lone surrogates, U+FFFE, U+FFFF).
const forbiddenChars = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

// Applied to the builder's output, which holds only ASCII tag names and escaped text:
// - a '-' after a '-': so no '--' ever appears outside the one padding comment; an Item is first
//   written inside that comment, where '--' is not allowed;
// - anything outside printable ASCII (tab, newline, CR, non-ASCII): as a character reference, so
//   every byte of the file is a whole character. A torn write of a multi-byte UTF-8 sequence could
//   otherwise leave invalid UTF-8 for a moment; CR would also be lost to line-end normalisation.
const afterBuilder = /(?<=-)-|[^\x20-\x7E]/gu;

const builder = new XMLBuilder({ format: false, suppressEmptyNode: false });

/** Replaces the characters XML cannot carry with U+FFFD; what a reader gets back for `text`. */
export function toXmlChars(text: string): string {
  return text.replace(forbiddenChars, '\uFFFD');
}

/**
 * Text the builder would leave as it is: printable ASCII with no character XML escapes and no
 * `--`. An Item usually is such text (a sequence number, a time, a file name).
 */
const plainText = /^[\x20-\x7E]*$/;
const markupChars = /[&<>"']/;

/** `<name>text</name>`, escaped for the infoFile: pure ASCII, no `--`, no markup from `text`. */
export function xmlElement(name: string, text: string): string {
  // A segment's Item is rendered with each segment: the builder's general path cost a busy worker
  // ~2 % of its CPU and ~8 % of its allocations, for text it returns unchanged.
  if (plainText.test(text) && !markupChars.test(text) && !text.includes('--'))
    return `<${name}>${text}</${name}>`;
  return builtElement(name, text);
}

/** `<name>text</name>` as the builder renders it, for any text (xmlElement's general path). */
export function builtElement(name: string, text: string): string {
  const built = builder.build({ [name]: toXmlChars(text) });
  return built.replace(afterBuilder, (char) =>
    char === '-' ? '&#45;' : `&#x${char.codePointAt(0)!.toString(16).toUpperCase()};`,
  );
}
