import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { PathPolicyError } from './errors.js';
import { PathLookups } from './path-lookups.js';

/**
 * outputPath and infoFile must lie inside one of the configured output roots — lexically (after
 * resolving `..`) and for real (the nearest existing ancestor's realpath, so a symlink inside a
 * root cannot point out of it). The worker creates what does not exist yet.
 */
export class OutputRoots {
  private constructor(private readonly roots: { lexical: string; real: string }[]) {}

  static async create(roots: string[]): Promise<OutputRoots> {
    const lookups = new PathLookups();
    return new OutputRoots(
      await Promise.all(
        roots.map(async (root) => {
          const lexical = resolve(root);
          return { lexical, real: (await realpathOfNearest(lexical, lookups)) ?? lexical };
        }),
      ),
    );
  }

  /**
   * Returns the resolved absolute path, or throws PathPolicyError naming the field. `lookups`
   * shares the file system's answers with the request's other checks.
   */
  async check(
    field: string,
    value: string,
    kind: 'directory' | 'file',
    lookups = new PathLookups(),
  ): Promise<string> {
    if (value.includes('\0')) throw new PathPolicyError(`${field} must not contain NUL characters`);
    if (!isAbsolute(value)) throw new PathPolicyError(`${field} must be an absolute path`);
    const resolved = resolve(value);
    // A file can never be a root itself; a dump may be written straight into a root directory.
    const allowRoot = kind === 'directory';
    if (!this.roots.some((root) => isInside(root.lexical, resolved, allowRoot))) {
      throw new PathPolicyError(`${field} is outside the allowed output roots`);
    }
    const real = await realpathOfNearest(resolved, lookups);
    if (real === undefined || !this.roots.some((root) => isInside(root.real, real, allowRoot))) {
      throw new PathPolicyError(
        `${field} is outside the allowed output roots (through a symbolic link)`,
      );
    }
    return resolved;
  }
}

function isInside(root: string, path: string, allowEqual: boolean): boolean {
  const rel = relative(root, path);
  if (rel === '') return allowEqual;
  return !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The realpath of `path` as it would be once created: the nearest existing ancestor's realpath
 * plus the missing components. undefined when a component is a dangling symlink (its target
 * cannot be judged, and mkdir would follow it). Each component is looked at with lstat first: a
 * missing one costs one failed lookup, not a failed realpath and a failed lstat.
 */
async function realpathOfNearest(path: string, lookups: PathLookups): Promise<string | undefined> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    const stats = await lookups.lstat(current);
    if (stats) {
      try {
        return join(await lookups.realpath(current), ...missing.reverse());
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
        if (stats.isSymbolicLink()) return undefined;
        // Gone since the lstat: judged as missing, as its parent would be.
      }
    }
    const parent = dirname(current);
    if (parent === current) return path;
    missing.push(basename(current));
    current = parent;
  }
}

/** A master playlist name: a plain file name ending in `.m3u8`, nothing that could climb or escape. */
export function checkPlaylistName(name: string): void {
  const plain =
    name.length > 0 &&
    !name.includes('/') &&
    !name.includes('\\') &&
    !name.includes('\0') &&
    !name.includes('..') &&
    name.endsWith('.m3u8') &&
    name !== '.m3u8';
  if (!plain)
    throw new PathPolicyError(
      `playlist entries must be plain file names ending in .m3u8: ${JSON.stringify(name)}`,
    );
}
