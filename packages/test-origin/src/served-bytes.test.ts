import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestOrigin, type TestOrigin } from './origin-server.js';
import { readFragments } from './fmp4-boxes.js';
import type { RenditionId } from './fixtures.js';

const run = promisify(execFile);
let origin: TestOrigin;
let dir: string;
beforeAll(async () => {
  origin = await createTestOrigin({ speed: 20 });
  dir = await mkdtemp(join(tmpdir(), 'test-origin-bytes-'));
});
afterAll(async () => {
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

async function bytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('served media', () => {
  it('a segment equals the concatenation of its parts and segmentBytes()', async () => {
    const control = origin.addStream('bytes', 'parts', { partsPerSegment: 3 });
    for (const id of ['video_0', 'audio_0'] as RenditionId[]) {
      const msn = control.status(id).completeSegments - 1;
      const segment = await bytes(control.segmentUrl(id, msn));
      const parts: Buffer[] = [];
      for (let p = 0; p < control.partsPerSegment; p++)
        parts.push(await bytes(control.partUrl(id, msn, p)));
      expect(segment.equals(Buffer.concat(parts))).toBe(true);
      expect(segment.equals(control.segmentBytes(id, msn))).toBe(true);
      expect((await bytes(control.initUrl(id))).equals(control.initBytes(id))).toBe(true);
      // mfhd sequence numbers keep counting across segments.
      expect(readFragments(segment).map((f) => f.sequenceNumber)).toEqual(
        [1, 2, 3].map((n) => msn * 3 + n),
      );
    }
  });

  it('loops without time going backwards: ffprobe sees init + segments across loop points as continuous', async () => {
    // 8-second fixture, 4 x 1 s parts per segment: loop points fall before segments 2, 4, 6...
    const control = origin.addStream('bytes', 'loop', { windowSegments: 30, startSegments: 6 });
    const downloads = new Map<RenditionId, { file: string; extinfSum: number }>();
    for (const id of ['video_0', 'audio_0'] as RenditionId[]) {
      const playlist = await (await fetch(control.chunklistUrl(id))).text();
      const lines = playlist.split('\n');
      const msns = [1, 2, 3, 4, 5];
      let extinfSum = 0;
      const files = [await bytes(control.initUrl(id))];
      for (const msn of msns) {
        const uri = `seg_${control.renditions.find((r) => r.id === id)!.trackId}_${msn}_`;
        const at = lines.findIndex((l) => l.startsWith(uri));
        expect(at, `${uri} listed`).toBeGreaterThan(0);
        const duration = Number(/^#EXTINF:([\d.]+),/.exec(lines[at - 1]!)![1]);
        expect(duration).toBeCloseTo(control.segmentDuration(id, msn), 5);
        extinfSum += duration;
        files.push(await bytes(new URL(lines[at]!, control.chunklistUrl(id)).href));
      }
      const file = join(dir, `${id}.mp4`);
      await writeFile(file, Buffer.concat(files));
      downloads.set(id, { file, extinfSum });
    }
    for (const [id, { file, extinfSum }] of downloads) {
      const { stdout } = await run('ffprobe', [
        ...[
          '-v',
          'error',
          '-select_streams',
          '0',
          '-show_entries',
          'packet=dts,duration:stream=time_base',
        ],
        ...['-of', 'json', file],
      ]);
      const probe = JSON.parse(stdout) as {
        packets: { dts: number; duration: number }[];
        streams: { time_base: string }[];
      };
      const timescale = Number(probe.streams[0]!.time_base.split('/')[1]);
      const dts = probe.packets.map((p) => p.dts);
      for (let i = 1; i < dts.length; i++)
        expect(dts[i]!, `${id} packet ${i}`).toBeGreaterThan(dts[i - 1]!);
      const lastPacket = probe.packets.at(-1)!;
      const span = (lastPacket.dts + lastPacket.duration - dts[0]!) / timescale;
      expect(Math.abs(span - extinfSum)).toBeLessThan(0.1);
      // Segment 1 starts 4 s into the stream, so time really moved forward past two loops.
      expect(dts[0]! / timescale).toBeGreaterThan(3.9);
      expect(dts.at(-1)! / timescale).toBeGreaterThan(23);
    }
  });
});
