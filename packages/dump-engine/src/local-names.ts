import { createHash } from 'node:crypto';
import { NameFilter } from './name-filter.js';

const MAX_NAME_LENGTH = 150;

/**
 * Turns the last path segment of an origin URL into a plain, safe file name: query strings and
 * fragments dropped, separators and anything outside [A-Za-z0-9._-] replaced, no leading dot (so
 * never `.` or `..`), bounded length. A hostile origin can never name a file outside outputPath.
 */
export function sanitizeFileName(uri: string): string {
  const withoutQuery = uri.split(/[?#]/, 1)[0] ?? '';
  const lastSegment = withoutQuery.split(/[/\\]/).pop() ?? '';
  let decoded = lastSegment;
  try {
    decoded = decodeURIComponent(lastSegment);
  } catch {
    // Malformed percent-encoding: keep the raw text; it is sanitized below either way.
  }
  const name = bounded(decoded.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.]+/, ''));
  return name === '' ? 'file' : name;
}

/** At most MAX_NAME_LENGTH characters: a long name keeps its head and extension, and a hash of the whole. */
function bounded(name: string): string {
  if (name.length <= MAX_NAME_LENGTH) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : '';
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${name.slice(0, MAX_NAME_LENGTH - extension.length - 17)}_${digest}${extension}`;
}

/**
 * Gives each origin URL one local file name, unique within a dump: two different URLs whose base
 * names clash (e.g. `v0/seg1.ts` and `v1/seg1.ts`, or an origin that reuses segment names) get
 * distinct names, so no file still listed in a chunklist is ever overwritten.
 */
export class LocalNames {
  /**
   * Every name in use, as a 32-bit hash: a day-long dump names over 100 000 segments, and this
   * keeps that to a few bytes each. Two names whose hashes clash only cost a prefixed name.
   */
  private readonly taken = new Set<number>();
  /** Names asked for again by URL (init segments, playlists); segments are asked once each. */
  private readonly nameByUrl = new Map<string, string>();
  /** Segment names given out whose file is not on disk yet. */
  private readonly writing = new Set<string>();
  /** Files on disk that no chunklist lists: a dead owner renamed them in but never listed them. */
  private readonly reclaimable = new Set<string>();
  /** Every name that may be on disk; undefined until the output folder is first listed. */
  private onDisk: NameFilter | undefined;
  private listing: Promise<NameFilter> | undefined;

  /** Marks a name as taken (a resumed dump's existing files, the infoFile), optionally as `url`'s. */
  reserve(name: string, url?: string): void {
    this.taken.add(hashName(name));
    if (url !== undefined) this.nameByUrl.set(url, name);
  }

  /** The local name for `url`; `prefix` disambiguates a clash (the rendition's index). */
  nameFor(url: string, prefix: string): string {
    const known = this.nameByUrl.get(url);
    if (known !== undefined) return known;
    const base = sanitizeFileName(url);
    let name = base;
    for (let attempt = 1; this.taken.has(hashName(name)); attempt++) {
      name = bounded(attempt === 1 ? `${prefix}_${base}` : `${prefix}_${attempt}_${base}`);
    }
    this.taken.add(hashName(name));
    return name;
  }

  /**
   * The local name for a segment. A day-long dump names over 100 000 segments: rather than remember
   * each, the names that may be on disk (the output folder as first listed, and every segment name
   * given since) are kept in a filter of a few bytes a name. A name the filter has never seen is not
   * on disk, so only the rare name it may have seen (an origin reusing a name, a resumed dump's
   * files, a false positive) is asked of the disk (`exists`), besides the names reserved or given
   * out and those being written. Call `written(name)` once the file is on disk or given up.
   */
  async segmentNameFor(url: string, prefix: string, disk: SegmentDisk): Promise<string> {
    const base = sanitizeFileName(url);
    const onDisk = this.onDisk ?? (await this.listDisk(disk));
    for (let attempt = 0; ; attempt++) {
      const name =
        attempt === 0 ? base : attempt === 1 ? `${prefix}_${base}` : `${prefix}_${attempt}_${base}`;
      if (this.taken.has(hashName(name)) || this.writing.has(name)) continue;
      // Held before the disk is asked, so a rendition asking at the same moment gets another.
      this.writing.add(name);
      // The same origin URL gives the same name: a resumed dump writes over the copy its
      // former owner left unlisted instead of keeping it and listing a renamed twin.
      if (this.reclaimable.delete(name)) return name;
      if (!onDisk.has(name)) {
        onDisk.add(name);
        return name;
      }
      if (!(await disk.exists(name))) return name;
      this.writing.delete(name);
    }
  }

  /** The output folder's names, listed once for every rendition, the first time a segment is named. */
  private async listDisk(disk: SegmentDisk): Promise<NameFilter> {
    this.listing ??= disk.list().then((names) => {
      const filter = new NameFilter();
      for (const name of names) filter.add(name);
      this.onDisk = filter;
      return filter;
    });
    try {
      return await this.listing;
    } catch (error) {
      // The next segment asks again: a passing failure must not stick to the dump.
      this.listing = undefined;
      throw error;
    }
  }

  /** Files found on disk that no chunklist lists (see `reclaimable`); taken names stay taken. */
  reclaim(names: Iterable<string>): void {
    for (const name of names) this.reclaimable.add(name);
  }

  /** The segment file named `name` is on disk (or was given up): the disk answers for it now. */
  written(name: string): void {
    this.writing.delete(name);
  }

  /** Like nameFor, and remembers the URL so later calls return the same name (init segments, playlists). */
  stableNameFor(url: string, prefix: string): string {
    const name = this.nameFor(url, prefix);
    this.nameByUrl.set(url, name);
    return name;
  }
}

/** What segmentNameFor asks of the output folder. */
export interface SegmentDisk {
  /** Whether a file of that name is in the folder. */
  exists(name: string): Promise<boolean>;
  /** Every name in the folder. */
  list(): Promise<Iterable<string>>;
}

/** FNV-1a over the name's UTF-16 code units. */
function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
