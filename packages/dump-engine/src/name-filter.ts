/**
 * The names a dump may have on disk, as a Bloom filter that grows with them: `has` is never wrong
 * when it says no, and may say yes for a name never added (about 1 in 100), which then costs one
 * question to the disk. Two to four bytes a name: a day-long dump's 100 000 segment names take a
 * few hundred KiB, where remembering each name would take megabytes.
 */
export class NameFilter {
  private readonly stages: FilterStage[] = [];

  add(name: string): void {
    let stage = this.stages.at(-1);
    if (stage === undefined || stage.count >= stage.capacity) {
      stage = newStage(stage === undefined ? FIRST_CAPACITY : stage.capacity * 2);
      this.stages.push(stage);
    }
    const h1 = fnv1a(name, FNV_OFFSET);
    const h2 = fnv1a(name, SECOND_OFFSET) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & stage.mask;
      stage.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    stage.count++;
  }

  has(name: string): boolean {
    if (this.stages.length === 0) return false;
    const h1 = fnv1a(name, FNV_OFFSET);
    const h2 = fnv1a(name, SECOND_OFFSET) | 1;
    stages: for (const stage of this.stages) {
      for (let i = 0; i < PROBES; i++) {
        const bit = (h1 + Math.imul(i, h2)) & stage.mask;
        if ((stage.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) continue stages;
      }
      return true;
    }
    return false;
  }
}

interface FilterStage {
  bits: Uint32Array;
  mask: number;
  capacity: number;
  count: number;
}

/** Ten bits a name and seven probes: about 1 % false positives per stage when full. */
const BITS_PER_NAME = 10;
const PROBES = 7;
const FIRST_CAPACITY = 1024;
const FNV_OFFSET = 0x811c9dc5;
const SECOND_OFFSET = 0x5bd1e995;

function newStage(capacity: number): FilterStage {
  // A power of two of bits, so a probe is a mask; at least BITS_PER_NAME a name.
  const size = 2 ** Math.ceil(Math.log2(capacity * BITS_PER_NAME));
  return { bits: new Uint32Array(size / 32), mask: size - 1, capacity, count: 0 };
}

/** FNV-1a over the name's UTF-16 code units, from `offset`. */
function fnv1a(name: string, offset: number): number {
  let hash = offset;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
