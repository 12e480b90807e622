// Where a worker's CPU goes: a V8 .cpuprofile (node --cpu-prof) summarised by self time, per
// function and per package.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

function packageOf(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const m = /\/(packages|services)\/([^/]+)\//.exec(url);
  return m ? `@hlsdump/${m[2]}` : url;
}

export async function summariseProfiles(dir, top = 25) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const byFunction = new Map();
  const byPackage = new Map();
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8'));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas[i + 1] ?? 0;
      self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
    }
    for (const [id, us] of self) {
      const { callFrame } = nodes.get(id);
      if (callFrame.functionName === '(idle)') continue;
      totalUs += us;
      const short = callFrame.url
        ? callFrame.url.replace(/^.*\/(node_modules|packages|services)\//, '$1/')
        : '';
      const key = `${callFrame.functionName || '(anonymous)'} ${short}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + us);
      const pkg = ['(garbage collector)', '(program)'].includes(callFrame.functionName)
        ? callFrame.functionName
        : packageOf(callFrame.url);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    }
  }
  const sorted = (map) =>
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
