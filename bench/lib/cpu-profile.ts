// Where a worker's CPU goes: a V8 .cpuprofile (node --cpu-prof) summarised by self time, per
// function and per package.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  files: number;
  busyMs: number;
  functions: ProfileShare[];
  packages: ProfileShare[];
}

function packageOf(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const m = /\/(packages|services)\/([^/]+)\//.exec(url);
  return m ? `@hlsdump/${m[2]}` : url;
}

export async function summariseProfiles(dir: string, top = 25): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) =>
    map.set(key, (map.get(key) ?? 0) + us);
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    }
    for (const [id, us] of self) {
      const { callFrame } = nodes.get(id)!;
      if (callFrame.functionName === '(idle)') continue;
      totalUs += us;
      const short = callFrame.url
        ? callFrame.url.replace(/^.*\/(node_modules|packages|services)\//, '$1/')
        : '';
      const line = callFrame.url ? `:${callFrame.lineNumber + 1}` : '';
      add(byFunction, `${callFrame.functionName || '(anonymous)'} ${short}${line}`, us);
      const pkg = ['(garbage collector)', '(program)'].includes(callFrame.functionName)
        ? callFrame.functionName
        : packageOf(callFrame.url);
      add(byPackage, pkg, us);
    }
  }
  const sorted = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / totalUs }));
  return {
    files: files.length,
    busyMs: totalUs / 1000,
    functions: sorted(byFunction).slice(0, top),
    packages: sorted(byPackage).slice(0, 20),
  };
}
