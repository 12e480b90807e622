// Apple's SAMPLE-AES for MPEG-TS ("MPEG-2 Stream Encryption Format for HTTP Live Streaming"),
// applied to elementary streams before they are muxed: H.264 slices and ADTS AAC frames are
// encrypted in place with AES-128-CBC, leaving clear the parts a demuxer reads (NAL and slice
// headers, ADTS headers) so the stream still parses and segments as a clear one does.
import { createCipheriv } from 'node:crypto';

const BLOCK = 16;
/** H.264: bytes of a NAL unit left clear before the first encrypted block. */
const VIDEO_CLEAR_LEADER = 32;
/** H.264: after each encrypted block, up to this many bytes stay clear (a 1-in-10 pattern). */
const VIDEO_CLEAR_STRIDE = 144;
/** AAC: bytes of a frame's payload (after its ADTS header) left clear. */
const AUDIO_CLEAR_LEADER = 16;
const NAL_SLICE = 1;
const NAL_IDR_SLICE = 5;

export interface SampleAesKey {
  key: Buffer;
  iv: Buffer;
}

/** AES-128-CBC over whole blocks, no padding, the chain starting at the key's IV. */
function cbcEncrypt({ key, iv }: SampleAesKey, blocks: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([cipher.update(blocks), cipher.final()]);
}

/**
 * An H.264 Annex B stream with every slice NAL unit longer than 48 bytes encrypted: after a
 * 32-byte clear leader, one 16-byte block in ten, one CBC chain per NAL unit, a final block of
 * 16 bytes or less left clear. Emulation prevention is then applied over the encrypted NAL unit
 * (ciphertext can hold start codes); a player removes it, decrypts, and has the NAL unit as it was.
 */
export function encryptAvcStream(annexB: Buffer, key: SampleAesKey): Buffer {
  const out: Buffer[] = [];
  let copiedTo = 0;
  for (const { start, end } of nalUnits(annexB)) {
    const type = annexB[start]! & 0x1f;
    if (type !== NAL_SLICE && type !== NAL_IDR_SLICE) continue;
    out.push(annexB.subarray(copiedTo, start));
    out.push(encryptNalUnit(annexB.subarray(start, end), key));
    copiedTo = end;
  }
  out.push(annexB.subarray(copiedTo));
  return Buffer.concat(out);
}

function encryptNalUnit(nal: Buffer, key: SampleAesKey): Buffer {
  const offsets: number[] = [];
  for (let at = VIDEO_CLEAR_LEADER; nal.length - at > BLOCK; at += BLOCK + VIDEO_CLEAR_STRIDE)
    offsets.push(at);
  // 48 bytes or less: no block, and a player leaves the NAL unit alone.
  if (offsets.length === 0) return nal;
  const encrypted = cbcEncrypt(
    key,
    Buffer.concat(offsets.map((at) => nal.subarray(at, at + BLOCK))),
  );
  const protectedNal = Buffer.from(nal);
  for (const [index, at] of offsets.entries())
    encrypted.copy(protectedNal, at, index * BLOCK, (index + 1) * BLOCK);
  return withEmulationPrevention(protectedNal);
}

/** Each NAL unit's [start, end) after its start code; trailing zeros belong to the next start code. */
function nalUnits(annexB: Buffer): { start: number; end: number }[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((start, index) => {
    let end = index + 1 < starts.length ? starts[index + 1]! - 3 : annexB.length;
    while (end > start && annexB[end - 1] === 0) end--;
    return { start, end };
  });
}

/** H.264 7.4.1: 0x03 after any two zero bytes followed by a byte of 3 or less, and after a final zero. */
function withEmulationPrevention(raw: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of raw) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  if (zeros > 0) out.push(3);
  return Buffer.from(out);
}

/**
 * An ADTS AAC stream with each frame encrypted: the ADTS header and the payload's first 16 bytes
 * clear, then every whole 16-byte block, one CBC chain per frame; the last partial block clear.
 */
export function encryptAdtsStream(adts: Buffer, key: SampleAesKey): Buffer {
  const out = Buffer.from(adts);
  let at = 0;
  while (at < out.length) {
    if (out[at] !== 0xff || (out[at + 1]! & 0xf0) !== 0xf0)
      throw new Error(`no ADTS sync word at byte ${at}`);
    const headerLength = (out[at + 1]! & 0x01) === 1 ? 7 : 9; // protection_absent
    const frameLength =
      ((out[at + 3]! & 0x03) << 11) | (out[at + 4]! << 3) | ((out[at + 5]! & 0xe0) >> 5);
    if (frameLength < headerLength || at + frameLength > out.length)
      throw new Error(`ADTS frame at byte ${at} claims ${frameLength} bytes`);
    const payload = out.subarray(at + headerLength, at + frameLength);
    const blocks = Math.floor((payload.length - AUDIO_CLEAR_LEADER) / BLOCK);
    if (blocks > 0) {
      const clear = payload.subarray(AUDIO_CLEAR_LEADER, AUDIO_CLEAR_LEADER + blocks * BLOCK);
      cbcEncrypt(key, clear).copy(clear);
    }
    at += frameLength;
  }
  return out;
}

/** The AudioSpecificConfig (ISO/IEC 14496-3) an ADTS stream's first header describes. */
export function adtsAudioSpecificConfig(adts: Buffer): Buffer {
  if (adts.length < 7 || adts[0] !== 0xff || (adts[1]! & 0xf0) !== 0xf0)
    throw new Error('not an ADTS stream');
  const objectType = (adts[2]! >> 6) + 1;
  const frequencyIndex = (adts[2]! >> 2) & 0x0f;
  const channels = ((adts[2]! & 0x01) << 2) | (adts[3]! >> 6);
  const config = Buffer.alloc(2);
  config.writeUInt16BE((objectType << 11) | (frequencyIndex << 7) | (channels << 3));
  return config;
}
