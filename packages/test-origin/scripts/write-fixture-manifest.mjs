// Helper of make-fixtures.sh: copies one rendition's init + fragments into the fixture
// directory (fragments reduced to moof+mdat) and writes its manifest.json.
// Usage: node write-fixture-manifest.mjs <work dir> <out dir> <rendition id> <fragment count>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { Buffer } from 'node:buffer';

const [workDir, outDir, id, countArg] = process.argv.slice(2);
if (!workDir || !outDir || !id || !countArg) throw new Error('usage: <work> <out> <id> <count>');
const count = Number(countArg);

// ffmpeg's HLS muxer prefixes each fragment with styp+sidx; an LL-HLS part is moof+mdat only.
function keepMoofMdat(buf) {
  const kept = [];
  for (let at = 0; at + 8 <= buf.length;) {
    const size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (size < 8) throw new Error(`unsupported box size ${size} at ${at}`);
    if (type === 'moof' || type === 'mdat') kept.push(buf.subarray(at, at + size));
    at += size;
  }
  return Buffer.concat(kept);
}

const init = readFileSync(join(workDir, 'init.mp4'));
writeFileSync(join(outDir, 'init.mp4'), init);

const [num, den] = readFileSync(join(workDir, 'timebase.txt'), 'utf8')
  .trim()
  .split('/')
  .map(Number);
if (num !== 1 || !den) throw new Error(`unexpected time base in ${workDir}`);
const timescale = den;

function childBoxes(buf, start, end) {
  const boxes = new Map();
  for (let at = start; at + 8 <= end;) {
    const size = buf.readUInt32BE(at);
    if (size < 8) throw new Error(`unsupported box size ${size} at ${at}`);
    boxes.set(buf.toString('latin1', at + 4, at + 8), { start: at + 8, end: at + size });
    at += size;
  }
  return boxes;
}

// Fragment duration in track ticks, read the way a demuxer would: trun sample durations,
// falling back to tfhd's default-sample-duration (ffmpeg writes the latter).
function fragmentTicks(buf) {
  const moof = childBoxes(buf, 0, buf.length).get('moof');
  const traf = moof && childBoxes(buf, moof.start, moof.end).get('traf');
  if (!traf) throw new Error('fragment without moof/traf');
  const kids = childBoxes(buf, traf.start, traf.end);
  const tfhd = kids.get('tfhd');
  const trun = kids.get('trun');
  if (!tfhd || !trun) throw new Error('traf without tfhd/trun');
  const tfhdFlags = buf.readUInt32BE(tfhd.start) & 0xffffff;
  let at = tfhd.start + 8 + (tfhdFlags & 0x01 ? 8 : 0) + (tfhdFlags & 0x02 ? 4 : 0);
  const defaultDuration = tfhdFlags & 0x08 ? buf.readUInt32BE(at) : 0;
  const trunFlags = buf.readUInt32BE(trun.start) & 0xffffff;
  const samples = buf.readUInt32BE(trun.start + 4);
  if (!(trunFlags & 0x100)) return samples * defaultDuration;
  at = trun.start + 8 + (trunFlags & 0x01 ? 4 : 0) + (trunFlags & 0x04 ? 4 : 0);
  const stride = [0x100, 0x200, 0x400, 0x800].filter((f) => trunFlags & f).length * 4;
  let total = 0;
  for (let i = 0; i < samples; i++, at += stride) total += buf.readUInt32BE(at);
  return total;
}

const isVideo = id.startsWith('video');
let codecs = 'mp4a.40.2';
let resolution;
if (isVideo) {
  // avcC payload: version, profile, constraint flags, level -> RFC 6381 "avc1.PPCCLL".
  const at = init.indexOf('avcC', 0, 'latin1');
  codecs = 'avc1.' + init.subarray(at + 5, at + 8).toString('hex');
  // tkhd width/height are 16.16 fixed point in the last 8 bytes of the box.
  const tkhd = init.indexOf('tkhd', 0, 'latin1');
  const tkhdEnd = tkhd - 4 + init.readUInt32BE(tkhd - 4);
  resolution = {
    width: init.readUInt32BE(tkhdEnd - 8) >>> 16,
    height: init.readUInt32BE(tkhdEnd - 4) >>> 16,
  };
}

const fragments = [];
let peak = 0;
let bytes = 0;
for (let i = 0; i < count; i++) {
  const data = keepMoofMdat(readFileSync(join(workDir, `frag_${i}.m4s`)));
  const file = `frag_${i}.m4s`;
  writeFileSync(join(outDir, file), data);
  const durationTicks = fragmentTicks(data);
  const duration = durationTicks / timescale;
  fragments.push({ file, duration, durationTicks });
  peak = Math.max(peak, (data.length * 8) / duration);
  bytes += data.length;
}
const total = fragments.reduce((s, f) => s + f.duration, 0);

const manifest = {
  id,
  type: isVideo ? 'video' : 'audio',
  codecs,
  timescale,
  bandwidth: Math.ceil(peak),
  averageBandwidth: Math.ceil((bytes * 8) / total),
  ...(resolution ? { resolution } : {}),
  init: 'init.mp4',
  fragments,
};
writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
