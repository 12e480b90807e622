import { execFile } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markSampleAesStreams } from './sample-aes-pmt.js';
import {
  adtsAudioSpecificConfig,
  encryptAdtsStream,
  encryptAvcStream,
  type SampleAesKey,
} from './sample-aes.js';

const run = promisify(execFile);
const KEY: SampleAesKey = {
  key: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'),
  iv: Buffer.from('f0e0d0c0b0a090807060504030201000', 'hex'),
};

/** NAL units of an Annex B stream, start codes and trailing zeros left out. */
function nalUnits(stream: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((start, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : stream.length;
    while (stream[end - 1] === 0) end--;
    return stream.subarray(start, end);
  });
}

/** A player's side, written from the format's text: unescape, then decrypt the 1-in-10 blocks. */
function decryptNal(nal: Buffer): Buffer {
  const bytes: number[] = [];
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    bytes.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  const data = Buffer.from(bytes);
  let iv = KEY.iv;
  for (let at = 32; data.length - at > 16; at += 160) {
    const block = Buffer.from(data.subarray(at, at + 16));
    createDecipheriv('aes-128-cbc', KEY.key, iv).setAutoPadding(false).update(block).copy(data, at);
    iv = block;
  }
  return data;
}

describe('SAMPLE-AES encryption of H.264 and AAC elementary streams', () => {
  let dir: string;
  let video: Buffer;
  let audio: Buffer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hlsdump-sample-aes-'));
    await run(
      'ffmpeg',
      [
        ...['-hide_banner', '-v', 'error', '-nostdin', '-y'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30:duration=1'],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=1'],
        ...['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'h264', 'v.h264'],
        ...['-map', '1:a', '-c:a', 'aac', '-ac', '1', '-f', 'adts', 'a.aac'],
      ],
      { cwd: dir },
    );
    video = await readFile(join(dir, 'v.h264'));
    audio = await readFile(join(dir, 'a.aac'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('encrypts every slice longer than 48 bytes, leaves the rest, and decrypts back exactly', () => {
    const clear = nalUnits(video);
    const encrypted = nalUnits(encryptAvcStream(video, KEY));
    // Emulation prevention held: no start code appeared inside an encrypted NAL unit.
    expect(encrypted.length).toBe(clear.length);
    let slices = 0;
    for (const [index, nal] of clear.entries()) {
      const type = nal[0]! & 0x1f;
      const ours = encrypted[index]!;
      if ((type === 1 || type === 5) && nal.length > 48) {
        slices++;
        expect(ours.subarray(0, 32)).toEqual(nal.subarray(0, 32));
        expect(ours.equals(nal), `slice ${index} encrypted`).toBe(false);
        expect(decryptNal(ours).equals(nal), `slice ${index} decrypts`).toBe(true);
      } else {
        expect(ours.equals(nal), `NAL ${index} (type ${type}) clear`).toBe(true);
      }
    }
    expect(slices).toBe(30);
  });

  it('encrypts each AAC frame after its header and 16 clear bytes, whole blocks only', () => {
    const encrypted = encryptAdtsStream(audio, KEY);
    expect(encrypted.length).toBe(audio.length);
    let frames = 0;
    for (let at = 0; at < audio.length; frames++) {
      const length = ((audio[at + 3]! & 3) << 11) | (audio[at + 4]! << 3) | (audio[at + 5]! >> 5);
      const payload = at + 7; // ffmpeg writes no CRC
      const blocks = Math.floor((length - 7 - 16) / 16);
      const end = payload + 16 + blocks * 16;
      expect(encrypted.subarray(at, payload + 16)).toEqual(audio.subarray(at, payload + 16));
      expect(encrypted.subarray(end, at + length)).toEqual(audio.subarray(end, at + length));
      const decrypted = createDecipheriv('aes-128-cbc', KEY.key, KEY.iv)
        .setAutoPadding(false)
        .update(encrypted.subarray(payload + 16, end));
      expect(decrypted.equals(audio.subarray(payload + 16, end))).toBe(true);
      at += length;
    }
    expect(frames).toBeGreaterThan(40);
  });

  it('gives the AAC stream its AudioSpecificConfig: LC, 48 kHz, mono', () => {
    expect(adtsAudioSpecificConfig(audio)).toEqual(Buffer.from([0x11, 0x88]));
  });

  it('marks the muxed streams as SAMPLE-AES in the PMT, which ffprobe reads', async () => {
    await run(
      'ffmpeg',
      [
        ...['-hide_banner', '-v', 'error', '-nostdin', '-y', '-i', 'v.h264', '-i', 'a.aac'],
        ...['-map', '0:v', '-map', '1:a', '-c', 'copy', '-f', 'mpegts', 'clear.ts'],
      ],
      { cwd: dir },
    );
    const marked = markSampleAesStreams(
      await readFile(join(dir, 'clear.ts')),
      adtsAudioSpecificConfig(audio),
    );
    await writeFile(join(dir, 'marked.ts'), marked);
    const { stdout } = await run(
      'ffprobe',
      [
        ...['-v', 'error', '-show_entries', 'stream=codec_name,codec_tag_string'],
        ...['-of', 'csv=p=0', 'marked.ts'],
      ],
      { cwd: dir },
    );
    // 0xDB is the stream type ffprobe shows for video; audio carries the 'apad' registration.
    // Once for the program, once for the file's streams.
    const streams = new Set(stdout.split('\n').filter((line) => line !== ''));
    expect([...streams]).toEqual(['h264,[219][0][0][0]', 'aac,apad']);
  });
});
