import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import {
  parseMasterPlaylist,
  parseMediaPlaylist,
  tagAttributes,
  type ByteRange,
  type RenditionDetails,
} from '@hlsdump/hls-client';

export interface CopiedFiles {
  /** Chunklists compared, by local name. */
  chunklists: string[];
  segments: number;
  /** The copy's segment files, in order. */
  segmentFiles: string[];
  gaps: number;
  inits: Set<string>;
  /** Local key files, each compared with the origin's. */
  keys: Set<string>;
  /** Every tag line the origin put before a segment, as the copy has it. */
  tagLines: string[];
  /** Every EXT-X-KEY line of the copy. */
  keyLines: string[];
}

/**
 * Checks a dump of a finished stream against the origin's files on disk: the dumped master names
 * the same renditions (variants, alternate media, I-frame playlists) in the same order, each local
 * chunklist lists every origin segment in order, and every segment, byte range, init segment and
 * AES-128 key holds the origin's bytes. Segments the origin marks EXT-X-GAP stay gaps. Key tags
 * the copy keeps (SAMPLE-AES, key systems) name the origin's URI as served at `originBaseUrl`.
 */
export async function expectCopiedBytes(
  originDir: string,
  outputPath: string,
  master = 'master.m3u8',
  originBaseUrl?: string,
): Promise<CopiedFiles> {
  /** Where the origin served a file of `originDir`. */
  const servedUrl = (fileUrl: string): string => {
    if (originBaseUrl === undefined) throw new Error('a kept key URI needs originBaseUrl');
    return new URL(fileURLToPath(fileUrl).slice(originDir.length + 1), originBaseUrl).href;
  };
  const originMaster = await masterOf(originDir, master);
  const localMaster = await masterOf(outputPath, master);
  expect(localMaster.length, 'renditions in the dumped master').toBe(originMaster.length);
  const copied: CopiedFiles = {
    chunklists: [],
    segments: 0,
    segmentFiles: [],
    gaps: 0,
    inits: new Set(),
    keys: new Set(),
    tagLines: [],
    keyLines: [],
  };
  for (const [index, originUrl] of originMaster.entries()) {
    const localUrl = localMaster[index]!;
    copied.chunklists.push(fileURLToPath(localUrl).slice(outputPath.length + 1));
    const origin = await mediaOf(originUrl);
    const local = await mediaOf(localUrl);
    expect(local.endList, `${localUrl} ends`).toBe(true);
    expect(local.segments.length, `${localUrl} segments`).toBe(origin.segments.length);
    for (const [i, theirs] of origin.segments.entries()) {
      const ours = local.segments[i]!;
      const where = `${localUrl} segment ${i}`;
      expect(ours.duration, where).toBeCloseTo(theirs.duration, 5);
      expect(ours.gap, `${where} gap`).toBe(theirs.gap);
      expect(ours.byterange, `${where}: the copy needs no byte range`).toBeUndefined();
      expect(ours.tagLines, `${where} tags`).toEqual(theirs.tagLines);
      copied.tagLines.push(...ours.tagLines);
      copied.keyLines.push(...ours.keyLines);
      if (theirs.gap) {
        copied.gaps++;
        continue;
      }
      expect(
        (await bytesOf(ours.uri)).equals(await bytesOf(theirs.uri, theirs.byterange)),
        `${where} bytes`,
      ).toBe(true);
      copied.segments++;
      copied.segmentFiles.push(fileURLToPath(ours.uri).slice(outputPath.length + 1));
      if (theirs.map) {
        expect(ours.map, `${where} map`).toBeDefined();
        expect(ours.map!.byterange).toBeUndefined();
        expect(
          (await bytesOf(ours.map!.uri)).equals(
            await bytesOf(theirs.map.uri, theirs.map.byterange),
          ),
          `${where} init bytes`,
        ).toBe(true);
        copied.inits.add(ours.map!.relativeUri);
      }
      await expectSameKeys(
        theirs.keyLines,
        ours.keyLines,
        originUrl,
        localUrl,
        copied,
        where,
        servedUrl,
      );
    }
  }
  return copied;
}

async function expectSameKeys(
  theirs: string[],
  ours: string[],
  originUrl: string,
  localUrl: string,
  copied: CopiedFiles,
  where: string,
  servedUrl: (fileUrl: string) => string,
): Promise<void> {
  expect(ours.length, `${where} keys`).toBe(theirs.length);
  for (const [k, line] of theirs.entries()) {
    const originKey = tagAttributes(line);
    const localKey = tagAttributes(ours[k]!);
    for (const name of ['METHOD', 'IV', 'KEYFORMAT', 'KEYFORMATVERSIONS'])
      expect(localKey.get(name), `${where} key ${name}`).toBe(originKey.get(name));
    const uri = originKey.get('URI') ?? '';
    if (originKey.get('METHOD') === 'AES-128') {
      const local = localKey.get('URI') ?? '';
      expect(local, `${where}: the key is local`).not.toMatch(/[/:]/);
      expect(
        (await bytesOf(new URL(local, localUrl).href)).equals(
          await bytesOf(new URL(uri, originUrl).href),
        ),
        `${where} key bytes`,
      ).toBe(true);
      copied.keys.add(local);
    } else {
      // Kept as written, a relative URI made absolute: the copy fetches it where the origin serves it.
      const kept = /^[a-z][a-z0-9+.-]*:/i.test(uri) ? uri : new URL(uri, servedUrl(originUrl)).href;
      expect(localKey.get('URI'), `${where} key URI`).toBe(kept);
    }
  }
}

async function masterOf(dir: string, name: string): Promise<string[]> {
  const url = pathToFileURL(join(dir, name)).href;
  const parsed = parseMasterPlaylist(await readFile(join(dir, name), 'utf8'), url);
  return [
    ...parsed.variants.map((v) => v.uri),
    ...parsed.media.flatMap((m) => (m.uri === undefined ? [] : [m.uri])),
    ...parsed.iFramePlaylists,
  ];
}

async function mediaOf(url: string): Promise<RenditionDetails> {
  return parseMediaPlaylist(await readFile(fileURLToPath(url), 'utf8'), url);
}

async function bytesOf(url: string, range?: ByteRange): Promise<Buffer> {
  const bytes = await readFile(fileURLToPath(url.split('?', 1)[0]!));
  return range === undefined ? bytes : bytes.subarray(range.offset, range.offset + range.length);
}
