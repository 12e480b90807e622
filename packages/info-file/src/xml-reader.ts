/** Receives a document's content in order while scanXml checks it. */
export interface XmlHandler {
  startElement(name: string, attributes: ReadonlyMap<string, string> | undefined): void;
  /** Character data (references decoded, CDATA included); may come in several pieces. */
  text(value: string): void;
  endElement(name: string): void;
}

/** An element of a document read by readXml; text children are already unescaped. */
export interface XmlElement {
  name: string;
  attributes: ReadonlyMap<string, string>;
  children: (XmlElement | string)[];
}

/** The document is not well-formed XML (or uses a feature this reader refuses: DOCTYPE). */
export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at character ${offset})`);
    this.name = 'XmlSyntaxError';
  }
}

const badChar = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const nameStart =
  'A-Z_:a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const nameRest = `${nameStart}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;
// The class lists XML's name ranges, which include ZWNJ/ZWJ (U+200C-U+200D) on purpose.
// eslint-disable-next-line no-misleading-character-class
const fullNameAt = new RegExp(`[${nameStart}][${nameRest}]*`, 'uy');
// Most names are ASCII; the full Unicode class is much slower, so it only runs when needed.
const asciiNameAt = /[A-Za-z_:][A-Za-z0-9_:.-]*(?![\u0080-\uFFFF])/y;
const spaceAt = /[ \t\r\n]+/y;
const xmlDeclAt =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\3)?[ \t\r\n]*\?>/y;
const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Reads a whole document into a tree (see scanXml for what is accepted). */
export function readXml(text: string): XmlElement {
  const root: XmlElement = { name: '', attributes: new Map(), children: [] };
  const stack = [root];
  scanXml(text, {
    startElement(name, attributes) {
      const element: XmlElement = { name, attributes: attributes ?? new Map(), children: [] };
      stack[stack.length - 1]!.children.push(element);
      stack.push(element);
    },
    text(value) {
      stack[stack.length - 1]!.children.push(value);
    },
    endElement() {
      stack.pop();
    },
  });
  return root.children[0] as XmlElement;
}

/**
 * A strict, non-validating XML 1.0 scanner: it accepts exactly the well-formed documents without a
 * DOCTYPE (so no entities beyond the five predefined ones) and throws XmlSyntaxError on anything
 * else, including `--` inside comments, `]]>` in text and characters XML forbids. Written here
 * rather than borrowed because the usual parsers are lenient on exactly these points, and a torn
 * infoFile must not pass for a good one. Events go to `handler` as the text is scanned; nothing is
 * built, so a polling reader can check a large file cheaply.
 */
export function scanXml(text: string, handler: XmlHandler): void {
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  const fail: (message: string, at?: number) => never = (message, at = i) => {
    throw new XmlSyntaxError(message, at);
  };
  const readName = (): string | undefined => match(asciiNameAt) ?? match(fullNameAt);
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  const skipSpace = (): boolean => match(spaceAt) !== undefined;
  // One pass for characters XML forbids anywhere; references are checked where they are decoded.
  const bad = badChar.exec(text);
  if (bad)
    fail(`character U+${bad[0].codePointAt(0)!.toString(16)} is not allowed in XML`, bad.index);
  const decode = (raw: string, at: number): string => {
    if (!raw.includes('&')) return raw;
    let out = '';
    let from = 0;
    for (let amp = raw.indexOf('&'); amp !== -1; amp = raw.indexOf('&', from)) {
      out += raw.slice(from, amp);
      const semi = raw.indexOf(';', amp);
      if (semi === -1) fail("'&' must start a reference ending in ';'", at + amp);
      const ref = raw.slice(amp + 1, semi);
      let value: string | undefined;
      if (/^#[0-9]+$/.test(ref)) value = charFromCode(Number(ref.slice(1)));
      else if (/^#x[0-9A-Fa-f]+$/.test(ref)) value = charFromCode(parseInt(ref.slice(2), 16));
      else value = predefined[ref];
      if (value === undefined) fail(`unknown or invalid reference '&${ref};'`, at + amp);
      out += value;
      from = semi + 1;
    }
    return out + raw.slice(from);
  };
  const comment = (): void => {
    // At '<!--'. The first '--' after the opener must be the one of '-->'.
    const end = text.indexOf('--', i + 4);
    if (end === -1 || text[end + 2] !== '>')
      fail("a comment must end with '-->' and hold no '--'", end === -1 ? i : end);
    i = end + 3;
  };
  const processingInstruction = (): void => {
    i += 2;
    const target = readName() ?? fail('a processing instruction needs a target');
    if (target.toLowerCase() === 'xml') fail('the XML declaration may only open the document');
    const end = text.indexOf('?>', i);
    if (end === -1) fail("a processing instruction must end with '?>'");
    if (end > i && !skipSpace()) fail('a space must follow the processing instruction target');
    i = end + 2;
  };
  const misc = (): void => {
    for (;;) {
      if (skipSpace()) continue;
      if (text.startsWith('<!--', i)) comment();
      else if (text.startsWith('<?', i)) processingInstruction();
      else if (text.startsWith('<!DOCTYPE', i)) fail('a DOCTYPE is not accepted');
      else return;
    }
  };
  /** Reads a start tag, reports it, and returns its name if it was not empty (`<x/>`). */
  const startTag = (): string | undefined => {
    i += 1;
    const name = readName() ?? fail('an element name must follow <');
    let attributes: Map<string, string> | undefined;
    for (;;) {
      const spaced = skipSpace();
      if (text.startsWith('/>', i)) {
        i += 2;
        handler.startElement(name, attributes);
        handler.endElement(name);
        return undefined;
      }
      if (text[i] === '>') {
        i += 1;
        handler.startElement(name, attributes);
        return name;
      }
      if (!spaced) fail(`malformed start tag <${name}>`);
      const attr = readName() ?? fail(`malformed attribute in <${name}>`);
      skipSpace();
      if (text[i] !== '=') fail(`attribute ${attr} needs '='`);
      i += 1;
      skipSpace();
      const quote = text[i];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr} needs a quoted value`);
      const close = text.indexOf(quote as string, i + 1);
      if (close === -1) fail(`attribute ${attr} is not closed`);
      const raw = text.slice(i + 1, close);
      if (raw.includes('<')) fail(`'<' is not allowed in attribute ${attr}`, i);
      attributes ??= new Map();
      if (attributes.has(attr)) fail(`attribute ${attr} appears twice`);
      attributes.set(attr, decode(raw, i + 1).replace(/[\t\n\r]/g, ' '));
      i = close + 1;
    }
  };

  const decl = match(xmlDeclAt);
  if (decl === undefined && text.startsWith('<?xml', i) && /[ \t\r\n?]/.test(text[i + 5] ?? '')) {
    fail('malformed XML declaration');
  }
  misc();
  if (text[i] !== '<') fail('the document has no root element');
  const first = startTag();
  const stack: string[] = first === undefined ? [] : [first];
  while (stack.length > 0) {
    const parent = stack[stack.length - 1]!;
    const lt = text.indexOf('<', i);
    if (lt === -1) fail(`element <${parent}> is not closed`, text.length);
    if (lt > i) {
      const raw = text.slice(i, lt);
      if (raw.includes(']]>')) fail("']]>' is not allowed in text", i + raw.indexOf(']]>'));
      handler.text(decode(raw, i));
      i = lt;
    }
    if (text.startsWith('</', i)) {
      i += 2;
      const name = readName();
      if (name !== parent) fail(`expected </${parent}>`);
      skipSpace();
      if (text[i] !== '>') fail(`malformed end tag </${parent}>`);
      i += 1;
      stack.pop();
      handler.endElement(parent);
    } else if (text.startsWith('<!--', i)) {
      comment();
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end === -1) fail('a CDATA section is not closed');
      handler.text(text.slice(i + 9, end));
      i = end + 3;
    } else if (text.startsWith('<?', i)) {
      processingInstruction();
    } else if (text.startsWith('<!', i)) {
      fail("'<!' must start a comment or a CDATA section here");
    } else {
      const name = startTag();
      if (name !== undefined) stack.push(name);
    }
  }
  misc();
  if (i !== text.length) fail('content after the root element');
}

function charFromCode(code: number): string | undefined {
  if (code > 0x10ffff) return undefined;
  const char = String.fromCodePoint(code);
  return badChar.test(char) ? undefined : char;
}
