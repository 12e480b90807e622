import { describe, it, expect } from 'vitest';
import { childBoxes, iterateBoxes, patchFragment, readFragments } from './fmp4-boxes.js';
import { loadFixtures } from './fixtures.js';

function box(type: string, ...payload: Uint8Array[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** moof(mfhd, traf(tfhd, tfdt v0, trun with 3 samples of default duration 512)) + mdat. */
function syntheticV0Fragment(baseTime: number): Buffer {
  const tfhd = box('tfhd', u32(0x020008, 1, 512));
  const tfdt = box('tfdt', u32(0, baseTime));
  const trun = box('trun', u32(0, 3));
  return Buffer.concat([
    box('moof', box('mfhd', u32(0, 7)), box('traf', tfhd, tfdt, trun)),
    box('mdat', u32(0xdeadbeef)),
  ]);
}

describe('fmp4 box walker', () => {
  it('reads tfdt (v1) and durations of the fixture fragments consistently with their manifests', () => {
    for (const rendition of loadFixtures()) {
      for (const fragment of rendition.fragments) {
        const [info, ...rest] = readFragments(fragment.data);
        expect(rest).toHaveLength(0);
        expect(info!.tracks).toHaveLength(1);
        expect(info!.tracks[0]!.baseMediaDecodeTime).toBe(BigInt(fragment.startTicks));
        expect(info!.tracks[0]!.duration).toBe(BigInt(fragment.durationTicks));
      }
      // Fragments are exactly moof+mdat.
      expect([...iterateBoxes(rendition.fragments[0]!.data)].map((b) => b.type)).toEqual([
        'moof',
        'mdat',
      ]);
    }
  });

  it('patches tfdt v1 and mfhd in place, leaving every other byte alone', () => {
    const rendition = loadFixtures()[0]!;
    const src = rendition.fragments[3]!.data;
    const patched = patchFragment(src, {
      decodeTimeOffset: 5n * BigInt(rendition.loopTicks),
      sequenceNumber: 44,
    });
    expect(patched.length).toBe(src.length);
    const [info] = readFragments(patched);
    expect(info!.sequenceNumber).toBe(44);
    expect(info!.tracks[0]!.baseMediaDecodeTime).toBe(
      BigInt(rendition.fragments[3]!.startTicks + 5 * rendition.loopTicks),
    );
    const moof = childBoxes(patched, 'moof')[0]!;
    const traf = childBoxes(patched, 'traf', moof)[0]!;
    const tfdt = childBoxes(patched, 'tfdt', traf)[0]!;
    const mfhd = childBoxes(patched, 'mfhd', moof)[0]!;
    const changed = new Set<number>();
    for (let i = 0; i < src.length; i++) if (src[i] !== patched[i]) changed.add(i);
    for (const i of changed) {
      const inTfdt = i >= tfdt.payload + 4 && i < tfdt.end;
      const inMfhd = i >= mfhd.payload + 4 && i < mfhd.end;
      expect(inTfdt || inMfhd).toBe(true);
    }
    expect(src).toEqual(rendition.fragments[3]!.data); // source untouched
  });

  it('patches tfdt v0 and refuses to overflow it', () => {
    const fragment = syntheticV0Fragment(1000);
    const [before] = readFragments(fragment);
    expect(before).toMatchObject({
      sequenceNumber: 7,
      tracks: [{ tfdtVersion: 0, baseMediaDecodeTime: 1000n, duration: 1536n }],
    });
    const [after] = readFragments(
      patchFragment(fragment, { decodeTimeOffset: 1536n, sequenceNumber: 8 }),
    );
    expect(after).toMatchObject({ sequenceNumber: 8, tracks: [{ baseMediaDecodeTime: 2536n }] });
    expect(() =>
      patchFragment(fragment, { decodeTimeOffset: 0xffffffffn, sequenceNumber: 1 }),
    ).toThrow(/overflow/);
  });
});
