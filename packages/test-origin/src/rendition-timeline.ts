// Where every part and segment of one rendition sits in stream time, and its served bytes.
// Part p (counted from the stream's start) is fixture fragment p mod F of loop floor(p / F).
import type { FixtureRendition } from './fixtures.js';
import { patchFragment } from './fmp4-boxes.js';

// Float slack when comparing stream seconds against part edges computed from ticks.
const EPSILON = 1e-9;

export class RenditionTimeline {
  readonly #fragmentCount: number;

  constructor(
    readonly rendition: FixtureRendition,
    readonly partsPerSegment: number,
  ) {
    this.#fragmentCount = rendition.fragments.length;
  }

  #fragment(part: number): { loop: number; index: number } {
    const loop = Math.floor(part / this.#fragmentCount);
    return { loop, index: part - loop * this.#fragmentCount };
  }

  partStartTicks(part: number): number {
    const { loop, index } = this.#fragment(part);
    return loop * this.rendition.loopTicks + this.rendition.fragments[index]!.startTicks;
  }

  partDurationTicks(part: number): number {
    return this.rendition.fragments[this.#fragment(part).index]!.durationTicks;
  }

  partStart(part: number): number {
    return this.partStartTicks(part) / this.rendition.timescale;
  }

  partEnd(part: number): number {
    return (this.partStartTicks(part) + this.partDurationTicks(part)) / this.rendition.timescale;
  }

  partDuration(part: number): number {
    return this.partDurationTicks(part) / this.rendition.timescale;
  }

  segmentStart(msn: number): number {
    return this.partStart(msn * this.partsPerSegment);
  }

  segmentDuration(msn: number): number {
    const first = msn * this.partsPerSegment;
    let ticks = 0;
    for (let p = first; p < first + this.partsPerSegment; p++) ticks += this.partDurationTicks(p);
    return ticks / this.rendition.timescale;
  }

  /** How many parts have ended by stream time `t`. */
  partsCompleteAt(t: number): number {
    if (t <= 0) return 0;
    const loop = Math.floor((t + EPSILON) / this.rendition.loopSeconds);
    const inLoop = (t - loop * this.rendition.loopSeconds) * this.rendition.timescale;
    let count = 0;
    for (const f of this.rendition.fragments) {
      if (f.startTicks + f.durationTicks <= inLoop + EPSILON * this.rendition.timescale) count++;
      else break;
    }
    return loop * this.#fragmentCount + count;
  }

  /** The part's bytes with decode time and sequence number moved to where the stream is. */
  partBytes(part: number): Buffer {
    const { loop, index } = this.#fragment(part);
    return patchFragment(this.rendition.fragments[index]!.data, {
      decodeTimeOffset: BigInt(loop) * BigInt(this.rendition.loopTicks),
      sequenceNumber: part + 1,
    });
  }

  segmentBytes(msn: number): Buffer {
    const parts: Buffer[] = [];
    for (let i = 0; i < this.partsPerSegment; i++)
      parts.push(this.partBytes(msn * this.partsPerSegment + i));
    return Buffer.concat(parts);
  }

  /** Longest segment over one full cycle of fixture loops vs. segment boundaries. */
  maxSegmentDuration(): number {
    const cycleParts = lcm(this.#fragmentCount, this.partsPerSegment);
    let max = 0;
    for (let msn = 0; msn < cycleParts / this.partsPerSegment; msn++)
      max = Math.max(max, this.segmentDuration(msn));
    return max;
  }

  maxPartDuration(): number {
    return (
      Math.max(...this.rendition.fragments.map((f) => f.durationTicks)) / this.rendition.timescale
    );
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
