// Which objects a process accumulates: two V8 heap snapshots summarised by constructor (count and
// self size) and diffed, largest growth first.
import { readFile } from 'node:fs/promises';

interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  count: number;
  size: number;
}

export async function summariseSnapshot(path: string): Promise<Map<string, HeapGroup>> {
  const snap = JSON.parse(await readFile(path, 'utf8')) as HeapSnapshotFile;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const n = fields.length;
  const groups = new Map<string, HeapGroup>();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += n) {
    const type = types[nodes[i + iType]!]!;
    const name =
      type === 'object' || type === 'closure' ? snap.strings[nodes[i + iName]!]! : `(${type})`;
    const g = groups.get(name) ?? { count: 0, size: 0 };
    g.count++;
    g.size += nodes[i + iSize]!;
    groups.set(name, g);
  }
  return groups;
}

export async function diffSnapshots(
  before: string,
  after: string,
  top = 15,
): Promise<({ name: string } & HeapGroup)[]> {
  const a = await summariseSnapshot(before);
  const b = await summariseSnapshot(after);
  const rows: ({ name: string } & HeapGroup)[] = [];
  for (const [name, g] of b) {
    const o = a.get(name) ?? { count: 0, size: 0 };
    rows.push({ name, count: g.count - o.count, size: g.size - o.size });
  }
  rows.sort((x, y) => y.size - x.size);
  return rows.slice(0, top);
}
