import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { expect } from 'vitest';

export interface InfoItem {
  seq: number;
  time: string;
  file: string;
}

export interface InfoDocument {
  userData?: string;
  stream: string;
  status: string;
  error?: string;
  items: InfoItem[];
}

/** Reads an infoFile the way an uploader would: with a strict, independent XML parser. */
export async function readInfoFile(path: string): Promise<InfoDocument> {
  const xml = await readFile(path, 'utf8');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`invalid infoFile XML: ${JSON.stringify(valid.err)}`);
  const doc = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'Item' }).parse(
    xml,
  ) as {
    HLSDumpInfo: {
      UserData?: string;
      Stream: string;
      Status: string;
      Error?: string;
      Items?: { Item?: { Seq: string; Time: string; File: string }[] } | string;
    };
  };
  const root = doc.HLSDumpInfo;
  const items = typeof root.Items === 'object' ? (root.Items.Item ?? []) : [];
  return {
    ...(root.UserData === undefined ? {} : { userData: root.UserData }),
    stream: root.Stream,
    status: root.Status,
    ...(root.Error === undefined ? {} : { error: root.Error }),
    items: items.map((item) => ({ seq: Number(item.Seq), time: item.Time, file: item.File })),
  };
}

/** Seq runs 0..n-1 without holes, every Time is ISO 8601 with ms and offset, every File exists. */
export function expectConsistentItems(doc: InfoDocument): void {
  expect(doc.items.map((item) => item.seq)).toEqual(doc.items.map((_, index) => index));
  for (const item of doc.items) {
    expect(item.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    expect(existsSync(item.file), `listed file exists: ${item.file}`).toBe(true);
  }
}
