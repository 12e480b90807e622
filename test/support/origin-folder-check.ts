import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HlsDump } from '@hlsdump/dump-engine';
import { expect } from 'vitest';

export type Verdict = 'equal' | 'deleted' | 'different';

type ComparedKind = 'segment' | 'init';

/**
 * Compares every file of these kinds (default: segments and init segments) the dump writes with
 * the origin's file of the same name, as soon as it is written (an origin like ffmpeg deletes old
 * segments as it goes).
 */
export function compareWithOriginFolder(
  dump: HlsDump,
  originDir: string,
  kinds: readonly ComparedKind[] = ['segment', 'init'],
): () => Promise<Verdict[]> {
  const verdicts: Promise<Verdict>[] = [];
  dump.on((event) => {
    if (event.type !== 'file' || !(kinds as readonly string[]).includes(event.kind)) return;
    verdicts.push(compareFile(event.path, originDir));
  });
  return () => Promise.all(verdicts);
}

/** After the fact, for a dump made by another process: every media file in `outDir` against the origin's. */
export async function compareFolders(outDir: string, originDir: string): Promise<Verdict[]> {
  const names = (await readdir(outDir)).filter((name) => /\.(ts|m4s|mp4)$/.test(name));
  return Promise.all(names.map((name) => compareFile(join(outDir, name), originDir)));
}

async function compareFile(path: string, originDir: string): Promise<Verdict> {
  const dumped = await readFile(path);
  const name = path.split('/').pop()!;
  const served = await readFile(join(originDir, name)).catch(() => undefined);
  if (served === undefined) return 'deleted';
  return served.equals(dumped) ? 'equal' : 'different';
}

/** No copied file differs from the origin's, and at least `minEqual` were compared equal. */
export function expectByteForByte(verdicts: Verdict[], minEqual: number): void {
  expect(verdicts).not.toContain('different');
  expect(verdicts.filter((v) => v === 'equal').length).toBeGreaterThanOrEqual(minEqual);
}
