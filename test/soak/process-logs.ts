import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster } from '../support/cluster.js';

/** Every process's output to `<logDir>/<name>.log`, for whoever reads a problem. */
export async function saveProcessLogs(cluster: Cluster, logDir: string): Promise<void> {
  for (const p of [cluster.gateway, ...cluster.workers])
    await writeFile(join(logDir, `${p.name}.log`), p.output());
}

/** How often each warning or error was logged, by process kind, level and message. */
export function countWarnings(cluster: Cluster): Map<string, number> {
  const warnings = new Map<string, number>();
  for (const p of [cluster.gateway, ...cluster.workers])
    for (const line of p.logs())
      if ((line.level ?? 0) >= 40) {
        const key = `${p.name === 'gateway' ? 'gateway' : 'worker'} ${line.level! >= 50 ? 'error' : 'warn'}: ${line.msg ?? '?'}`;
        warnings.set(key, (warnings.get(key) ?? 0) + 1);
      }
  return warnings;
}
