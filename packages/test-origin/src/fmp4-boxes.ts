// A tiny ISO-BMFF walker: just enough to find moof/traf/tfdt/mfhd and rewrite them in place.

export interface BoxRef {
  readonly type: string;
  /** Offset of the box header. */
  readonly start: number;
  /** Offset of the payload (after size/type/largesize). */
  readonly payload: number;
  /** Offset one past the box. */
  readonly end: number;
}

/** Iterates the boxes laid end to end in `buf[start, end)`. */
export function* iterateBoxes(buf: Uint8Array, start = 0, end = buf.length): Generator<BoxRef> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(buf[at + 4]!, buf[at + 5]!, buf[at + 6]!, buf[at + 7]!);
    let payload = at + 8;
    if (size === 1) {
      if (at + 16 > end) throw new Error(`truncated largesize box '${type}' at ${at}`);
      size = Number(view.getBigUint64(at + 8));
      payload = at + 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < payload - at || at + size > end) {
      throw new Error(`box '${type}' at ${at} has bad size ${size}`);
    }
    yield { type, start: at, payload, end: at + size };
    at += size;
  }
}

/** Boxes of `type` among the children of `parent` (or top level). */
export function childBoxes(buf: Uint8Array, type: string, parent?: BoxRef): BoxRef[] {
  const found: BoxRef[] = [];
  for (const box of iterateBoxes(buf, parent?.payload ?? 0, parent?.end ?? buf.length)) {
    if (box.type === type) found.push(box);
  }
  return found;
}

export interface TrackFragmentTiming {
  readonly trackId: number;
  readonly tfdtVersion: 0 | 1;
  readonly baseMediaDecodeTime: bigint;
  /** Sum of sample durations (trun, else tfhd default), in track ticks; null if only trex knows. */
  readonly duration: bigint | null;
}

export interface FragmentInfo {
  readonly sequenceNumber: number;
  readonly tracks: readonly TrackFragmentTiming[];
}

/** Reads mfhd and every traf's timing from each moof in `buf`. */
export function readFragments(buf: Uint8Array): FragmentInfo[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return childBoxes(buf, 'moof').map((moof) => {
    const mfhd = childBoxes(buf, 'mfhd', moof)[0];
    if (!mfhd) throw new Error('moof without mfhd');
    const tracks = childBoxes(buf, 'traf', moof).map((traf): TrackFragmentTiming => {
      const tfhd = childBoxes(buf, 'tfhd', traf)[0];
      const tfdt = childBoxes(buf, 'tfdt', traf)[0];
      if (!tfhd || !tfdt) throw new Error('traf without tfhd/tfdt');
      const version = buf[tfdt.payload] === 1 ? 1 : 0;
      const baseMediaDecodeTime =
        version === 1
          ? view.getBigUint64(tfdt.payload + 4)
          : BigInt(view.getUint32(tfdt.payload + 4));
      return {
        trackId: view.getUint32(tfhd.payload + 4),
        tfdtVersion: version,
        baseMediaDecodeTime,
        duration: trafDuration(buf, view, traf, tfhd),
      };
    });
    return { sequenceNumber: view.getUint32(mfhd.payload + 4), tracks };
  });
}

function trafDuration(buf: Uint8Array, view: DataView, traf: BoxRef, tfhd: BoxRef): bigint | null {
  const tfhdFlags = view.getUint32(tfhd.payload) & 0xffffff;
  let at = tfhd.payload + 8 + (tfhdFlags & 0x01 ? 8 : 0) + (tfhdFlags & 0x02 ? 4 : 0);
  const defaultDuration = tfhdFlags & 0x08 ? view.getUint32(at) : null;
  let total = 0n;
  for (const trun of childBoxes(buf, 'trun', traf)) {
    const flags = view.getUint32(trun.payload) & 0xffffff;
    const samples = view.getUint32(trun.payload + 4);
    if (!(flags & 0x100)) {
      if (defaultDuration === null) return null;
      total += BigInt(samples) * BigInt(defaultDuration);
      continue;
    }
    at = trun.payload + 8 + (flags & 0x01 ? 4 : 0) + (flags & 0x04 ? 4 : 0);
    const stride = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
    for (let i = 0; i < samples; i++, at += stride) total += BigInt(view.getUint32(at));
  }
  return total;
}

export interface FragmentPatch {
  /** Added to every tfdt baseMediaDecodeTime, in the track's timescale. */
  readonly decodeTimeOffset: bigint;
  /** New mfhd sequence number for the (first) moof; later moofs count up from it. */
  readonly sequenceNumber: number;
}

/**
 * Returns a patched copy of a fragment. Only fixed-width fields change, so box sizes and
 * trun data offsets stay valid.
 */
export function patchFragment(src: Uint8Array, patch: FragmentPatch): Buffer {
  const out = Buffer.from(src);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let sequence = patch.sequenceNumber;
  for (const moof of childBoxes(out, 'moof')) {
    const mfhd = childBoxes(out, 'mfhd', moof)[0];
    if (!mfhd) throw new Error('moof without mfhd');
    view.setUint32(mfhd.payload + 4, sequence++ >>> 0);
    for (const traf of childBoxes(out, 'traf', moof)) {
      for (const tfdt of childBoxes(out, 'tfdt', traf)) {
        if (out[tfdt.payload] === 1) {
          view.setBigUint64(
            tfdt.payload + 4,
            view.getBigUint64(tfdt.payload + 4) + patch.decodeTimeOffset,
          );
        } else {
          const value = BigInt(view.getUint32(tfdt.payload + 4)) + patch.decodeTimeOffset;
          // Growing a v0 tfdt to v1 would shift trun data offsets; the fixtures never need it.
          if (value > 0xffffffffn) throw new Error('tfdt v0 overflow; use v1 fixtures');
          view.setUint32(tfdt.payload + 4, Number(value));
        }
      }
    }
  }
  return out;
}
