// A built worker in some tree (this one, or a `git worktree` of another commit): its entry point
// and the Node flags that build ships with, so that builds are compared as each ships; and the
// commit a tree is at, to name the builds compared.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerBuild } from '../../test/support/cluster.ts';

export async function workerBuildOf(tree: string): Promise<WorkerBuild> {
  const main = resolve(tree, 'services/worker/dist/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build that tree first`);
  // A build from before node-flags.ts ships none.
  const flagsModule = resolve(tree, 'services/worker/dist/node-flags.js');
  if (!existsSync(flagsModule)) return { main, nodeFlags: [] };
  const { WORKER_NODE_FLAGS } = (await import(pathToFileURL(flagsModule).href)) as {
    WORKER_NODE_FLAGS: readonly string[];
  };
  return { main, nodeFlags: WORKER_NODE_FLAGS };
}

/** The short commit `tree` is at, or the tree's path when it is no git checkout. */
export function commitOf(tree: string): string {
  try {
    return execFileSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return tree;
  }
}
