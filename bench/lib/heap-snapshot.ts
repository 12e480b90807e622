// Which objects a process accumulates: two V8 heap snapshots summarised by constructor (count and
// self size) and diffed, largest growth first.
import { readFile } from 'node:fs/promises';

export async function summariseSnapshot(path) {
  const snap = JSON.parse(await readFile(path, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const n = fields.length;
  const groups = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += n) {
    const type = types[nodes[i + iType]];
    const name =
      type === 'object' || type === 'closure' ? snap.strings[nodes[i + iName]] : `(${type})`;
    const key = `${name}`;
    const g = groups.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += nodes[i + iSize];
    groups.set(key, g);
  }
  return groups;
}

export async function diffSnapshots(before, after, top = 15) {
  const a = await summariseSnapshot(before);
  const b = await summariseSnapshot(after);
  const rows = [];
  for (const [name, g] of b) {
    const o = a.get(name) ?? { count: 0, size: 0 };
    rows.push({ name, count: g.count - o.count, size: g.size - o.size });
  }
  rows.sort((x, y) => y.size - x.size);
  return rows.slice(0, top);
}
