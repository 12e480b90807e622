import type { InfoFileDocument, InfoFileStatus } from './info-file-document.js';
import { scanXml } from './xml-reader.js';

/** The document is well-formed XML but not an infoFile (missing, repeated or unknown parts). */
export class InfoFileFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfoFileFormatError';
  }
}

const statuses: readonly string[] = ['Running', 'Completed', 'Error'] satisfies InfoFileStatus[];
const headFields: readonly string[] = ['UserData', 'Stream', 'Status', 'Error', 'Items'];
const itemFields: readonly string[] = ['Seq', 'Time', 'File'];

/**
 * Reads an infoFile strictly: throws XmlSyntaxError when the text is not well-formed XML and
 * InfoFileFormatError when a part is missing, repeated or unknown. Comments are ignored, and so is
 * text between elements: the writer's in-place appends briefly leave `!--` or `-->` as character
 * data between Items, which is well-formed and carries no meaning.
 *
 * Events are consumed as they are scanned (no tree), so polling a 100 000-Item file stays cheap.
 */
export function parseInfoFile(xml: string): InfoFileDocument {
  const stack: string[] = [];
  const head = new Map<string, string>();
  const items: InfoFileDocument['items'] = [];
  let sawItems = false;
  let item: Map<string, string> | undefined;
  /** The element whose text is being collected: a head field or a field of an Item. */
  let leaf: { name: string; text: string } | undefined;

  scanXml(xml, {
    startElement(name) {
      if (leaf) throw new InfoFileFormatError(`<${leaf.name}> must hold text only, not <${name}>`);
      const parent = stack[stack.length - 1];
      if (stack.length === 0) {
        if (name !== 'HLSDumpInfo')
          throw new InfoFileFormatError(`root element is <${name}>, not <HLSDumpInfo>`);
      } else if (stack.length === 1) {
        if (!headFields.includes(name)) throw unexpected(name, parent);
        if (head.has(name) || (name === 'Items' && sawItems)) throw twice(name, parent);
        if (name === 'Items') sawItems = true;
        else leaf = { name, text: '' };
      } else if (stack.length === 2) {
        if (name !== 'Item') throw unexpected(name, parent);
        item = new Map();
      } else {
        if (stack.length > 3 || !itemFields.includes(name)) throw unexpected(name, parent);
        if (item?.has(name)) throw twice(name, parent);
        leaf = { name, text: '' };
      }
      stack.push(name);
    },
    text(value) {
      if (leaf) leaf.text += value;
    },
    endElement(name) {
      stack.pop();
      if (leaf) {
        (stack.length === 1 ? head : item)?.set(name, leaf.text);
        leaf = undefined;
      } else if (name === 'Item' && item) {
        items.push(toItem(item));
        item = undefined;
      }
    },
  });

  const stream = head.get('Stream');
  const status = head.get('Status');
  if (stream === undefined) throw new InfoFileFormatError('<HLSDumpInfo> has no <Stream>');
  if (status === undefined) throw new InfoFileFormatError('<HLSDumpInfo> has no <Status>');
  if (!sawItems) throw new InfoFileFormatError('<HLSDumpInfo> has no <Items>');
  if (!statuses.includes(status)) throw new InfoFileFormatError(`unknown status '${status}'`);
  const document: InfoFileDocument = { stream, status: status as InfoFileStatus, items };
  const userData = head.get('UserData');
  if (userData !== undefined) document.userData = userData;
  const error = head.get('Error');
  if (error !== undefined) document.error = error;
  return document;
}

function toItem(fields: Map<string, string>): InfoFileDocument['items'][number] {
  const seq = fields.get('Seq');
  const time = fields.get('Time');
  const file = fields.get('File');
  if (seq === undefined || time === undefined || file === undefined) {
    throw new InfoFileFormatError('an <Item> needs <Seq>, <Time> and <File>');
  }
  if (!/^(0|[1-9][0-9]*)$/.test(seq) || !Number.isSafeInteger(Number(seq))) {
    throw new InfoFileFormatError(`Seq '${seq}' is not a non-negative integer`);
  }
  return { seq: Number(seq), time, file };
}

function unexpected(name: string, parent: string | undefined): InfoFileFormatError {
  return new InfoFileFormatError(`unexpected <${name}> in <${parent ?? ''}>`);
}

function twice(name: string, parent: string | undefined): InfoFileFormatError {
  return new InfoFileFormatError(`<${name}> appears twice in <${parent ?? ''}>`);
}
