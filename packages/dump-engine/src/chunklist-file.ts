import type { DumpStorage, PatchableFile, PreparedWrite } from '@hlsdump/storage';
import { ENDLIST_LINE, renderFinal } from './chunklist.js';

const NEWLINE = 0x0a;
const newline = Buffer.from('\n');
/**
 * A reader may see an append to the end of a file half done, cut where a page of it ends (the
 * kernel makes each page of a write visible whole, in order). So a block that would straddle a
 * page boundary first fills the page with blank lines, which a playlist parser ignores (RFC 8216
 * §4.1): the cut then always falls after a whole line.
 */
const PAGE_BYTES = 4096;

/**
 * A rendition's chunklist on disk while the dump runs: every state a reader can see is a VOD
 * playlist listing only complete segments, and adding a segment costs the same with 10 or 40 000
 * listed.
 *
 * The live form is the head, `#EXT-X-ENDLIST` (RFC 8216 §4.3.3.4 lets it stand anywhere), then the
 * segments, so a new segment goes at the end of the file without touching what is there. It goes in
 * three writes, each of whose partial states a reader may see:
 *  1. its lines, each made a comment by a `# ` before it, appended: any prefix of them is comments;
 *  2. the space after `#` of each tag line turned into a newline, in one write over the block: the
 *     tags come alive (`#` alone is an empty comment), with no URI after them yet, so they describe
 *     no segment (a mix of old and new bytes is some of the tags, the same);
 *  3. that byte of the URI line, alone: the segment is listed, all at once.
 * The segment file itself was renamed into place before, so a listed segment is always complete.
 * Step 1 never straddles a page boundary (see PAGE_BYTES), so a reader catching it half done sees
 * whole comment lines only.
 *
 * The whole file is rewritten (temporary file + rename) only when the head changes (the origin
 * raised its target duration), after a failed write, for the first write of a resumed dump, and once
 * at the end, into the final form with ENDLIST last and no comment lines, as OME writes it. Calls
 * must not overlap: a rendition's recorder makes them one after the other.
 */
export class ChunklistFile {
  private file: PatchableFile | undefined;
  /** The head as it is on disk, and the byte length of head + ENDLIST (where segments start). */
  private writtenHead: string | undefined;
  private segmentsOffset = 0;
  private size = 0;
  /** A write failed half-way: the next one rewrites the file from what is complete on disk. */
  private dirty = false;
  /** The final form's temporary file, made once a segment is listed (see finish). */
  private finalWrite: Promise<PreparedWrite | undefined> | undefined;

  /**
   * @param segments the lines of the segments already listed (a resumed dump), written by the first
   * write instead of what the file on disk holds.
   */
  constructor(
    private readonly storage: DumpStorage,
    readonly path: string,
    private segments: string | undefined = '',
  ) {}

  /** Writes the whole file with this head and the segments it lists. Returns the bytes written. */
  async rewrite(head: string, extraSegment = ''): Promise<number> {
    return this.guard(async () => {
      const segments = (await this.segmentLines()) + extraSegment;
      const text = Buffer.from(head + ENDLIST_LINE + segments, 'utf8');
      await this.storage.writeFile(this.path, text);
      this.segments = undefined;
      // The old handle points at the replaced file; every write from now on goes to the new one.
      const file = await this.storage.openPatchable(this.path, { create: 'existing' });
      await this.release();
      this.file = file;
      this.writtenHead = head;
      this.segmentsOffset = Buffer.byteLength(head + ENDLIST_LINE);
      this.size = text.byteLength;
      this.dirty = false;
      return text.byteLength;
    });
  }

  /** Lists one more segment (`lines` as segmentLines gives them). Returns the bytes written. */
  async append(head: string, lines: string): Promise<number> {
    const file = this.file;
    if (file === undefined || this.dirty || head !== this.writtenHead) {
      return this.rewrite(head, lines);
    }
    return this.guard(async () => {
      const { inert, tagFlips, uriFlip } = commentedOut(lines);
      const lead = blankLinesBefore(this.size, inert.byteLength);
      const at = this.size + lead;
      await file.write(this.size, lead === 0 ? inert : Buffer.concat([blankLines(lead), inert]));
      let written = lead + inert.byteLength;
      if (tagFlips.length > 0) {
        const live = Buffer.from(inert);
        for (const flip of tagFlips) live[flip] = NEWLINE;
        const span = live.subarray(tagFlips[0], tagFlips.at(-1)! + 1);
        await file.write(at + tagFlips[0]!, span);
        written += span.byteLength;
      }
      await file.write(at + uriFlip, newline);
      this.size = at + inert.byteLength;
      // The final form's file is made now, while the dump runs, not when its stop comes.
      this.finalWrite ??= this.storage.prepareWrite(this.path).catch(() => undefined);
      return written + 1;
    });
  }

  /**
   * Rewrites the file into its final form (ENDLIST last, no comment lines) and releases it; nothing
   * is written after this. Returns the bytes written.
   */
  async finish(head: string): Promise<number> {
    const prepared = await this.takeFinalWrite();
    let bytes: number;
    try {
      bytes = await this.guard(async () => {
        const text = Buffer.from(renderFinal(head, await this.segmentLines()), 'utf8');
        if (prepared) await prepared.commit(text);
        else await this.storage.writeFile(this.path, text);
        return text.byteLength;
      });
    } catch (error) {
      // Nothing of an end that failed stays beside the dump (a failed commit removed its own).
      await prepared?.discard().catch(() => undefined);
      throw error;
    }
    await this.release();
    return bytes;
  }

  /** Releases the file; it stays as it is on disk (a suspended dump's next owner continues it). */
  async close(): Promise<void> {
    await (await this.takeFinalWrite())?.discard().catch(() => undefined);
    await this.release();
  }

  private async takeFinalWrite(): Promise<PreparedWrite | undefined> {
    const prepared = await this.finalWrite;
    this.finalWrite = undefined;
    return prepared;
  }

  /** Every complete segment's lines: the resumed ones, or those on disk without comments or a torn tail. */
  private async segmentLines(): Promise<string> {
    if (this.segments !== undefined) return this.segments;
    // Through the file held open, whose size is known while no write failed: one read instead of an
    // open by name, a stat, a read and a close.
    const file = this.file;
    if (file !== undefined && !this.dirty) {
      const bytes = await file.read(this.segmentsOffset, this.size - this.segmentsOffset);
      return completeSegments(bytes.toString('utf8'));
    }
    const bytes = await this.storage.readFile(this.path);
    return completeSegments(bytes.toString('utf8', this.segmentsOffset));
  }

  private async guard<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }

  private async release(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }
}

/** How many blank lines go before a block of `length` bytes at `offset` so it fits in one page. */
function blankLinesBefore(offset: number, length: number): number {
  const room = PAGE_BYTES - (offset % PAGE_BYTES);
  // A block longer than a page straddles a boundary wherever it starts: no filler helps it.
  return length > room && length <= PAGE_BYTES ? room : 0;
}

function blankLines(count: number): Buffer {
  return Buffer.alloc(count, NEWLINE);
}

/**
 * `lines` with `# ` before each line, and the offsets of the bytes that bring them to life (the
 * space after each `#` added, to become a newline): the tag lines' and the URI line's.
 */
function commentedOut(lines: string): { inert: Buffer; tagFlips: number[]; uriFlip: number } {
  const text = lines.endsWith('\n') ? lines.slice(0, -1) : lines;
  const inert = Buffer.from(`# ${text.replaceAll('\n', '\n# ')}\n`, 'utf8');
  const flips: number[] = [1];
  for (let i = 0; i < inert.length - 1; i++) if (inert[i] === NEWLINE) flips.push(i + 2);
  const uriFlip = flips.pop()!;
  return { inert, tagFlips: flips, uriFlip };
}

/**
 * The segment lines of a live chunklist without what only a write in progress leaves: comment lines
 * (a commented-out block, or the `#` of a flipped one) and tags after the last URI.
 */
export function completeSegments(text: string): string {
  const kept: string[] = [];
  let complete = 0;
  for (const line of text.split('\n')) {
    if (line === '' || (line.startsWith('#') && !line.startsWith('#EXT'))) continue;
    kept.push(line);
    if (!line.startsWith('#')) complete = kept.length;
  }
  return kept.length === 0 || complete === 0 ? '' : kept.slice(0, complete).join('\n') + '\n';
}
