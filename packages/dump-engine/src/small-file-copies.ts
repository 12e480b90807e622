import type { ByteRange } from '@hlsdump/hls-client';

/** How SmallFileCopies reaches the origin and the output. */
export interface SmallFileAccess {
  fetch(url: string, range: ByteRange | undefined): Promise<Buffer>;
  /** The local file's bytes; undefined when it is not there. */
  read(file: string): Promise<Buffer | undefined>;
  write(file: string, bytes: Buffer, kind: 'init' | 'key'): Promise<void>;
  /** A new local name, unique in the dump. */
  nameFor(url: string, range: ByteRange | undefined): string;
}

/**
 * Init segments and AES-128 keys: files many segments share. Each is fetched once per URL and
 * written once per content. A signed-URL origin gives the same init or key a new query token on
 * every playlist load: the new URL is fetched, and when its bytes equal the copy already written
 * for the same path the copy is reused, so the output holds one file, not one per segment. Only
 * the newest URL of each path is remembered, so this stays small however long the dump runs.
 */
export class SmallFileCopies {
  private readonly fileByIdentity = new Map<string, string>();
  private readonly newestByPath = new Map<string, string>();

  constructor(private readonly access: SmallFileAccess) {}

  /** A previous owner's copies (the checkpoint's `inits`). */
  restore(identity: string, file: string): void {
    this.fileByIdentity.set(identity, file);
    this.newestByPath.set(pathIdentity(identity), identity);
  }

  entries(): Record<string, string> {
    return Object.fromEntries(this.fileByIdentity);
  }

  async localFile(
    url: string,
    range: ByteRange | undefined,
    kind: 'init' | 'key',
  ): Promise<string> {
    const identity = identityOf(url, range);
    const known = this.fileByIdentity.get(identity);
    if (known !== undefined) return known;
    const bytes = await this.access.fetch(url, range);
    const path = pathIdentity(identity);
    const previousIdentity = this.newestByPath.get(path);
    const previousFile =
      previousIdentity === undefined ? undefined : this.fileByIdentity.get(previousIdentity);
    let file: string;
    if (previousFile !== undefined && (await this.access.read(previousFile))?.equals(bytes)) {
      file = previousFile;
    } else {
      file = this.access.nameFor(url, range);
      await this.access.write(file, bytes, kind);
    }
    if (previousIdentity !== undefined) this.fileByIdentity.delete(previousIdentity);
    this.fileByIdentity.set(identity, file);
    this.newestByPath.set(path, identity);
    return file;
  }
}

/** The URL, and the byte range when the file is part of a larger resource. */
function identityOf(url: string, range: ByteRange | undefined): string {
  return range === undefined ? url : `${url} bytes=${range.offset}+${range.length}`;
}

/** The identity without the URL's query: the same file under another token. */
function pathIdentity(identity: string): string {
  const space = identity.indexOf(' ');
  const url = space < 0 ? identity : identity.slice(0, space);
  const range = space < 0 ? '' : identity.slice(space);
  return (url.split('?', 1)[0] ?? url) + range;
}
