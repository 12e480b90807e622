// The PMT signalling of a SAMPLE-AES MPEG-TS segment: the encrypted elementary streams get the
// stream types Apple's sample-encryption format assigns (0xDB for H.264, 0xCF for ADTS AAC), a
// private_data_indicator_descriptor naming the format, and, for audio, the audio setup
// information in a registration descriptor. Rewritten in place over a muxer's clear-stream PMT.

const PACKET = 188;
const SYNC = 0x47;
const PAT_PID = 0;
const STREAM_TYPE_AVC = 0x1b;
const STREAM_TYPE_ADTS = 0x0f;
const STREAM_TYPE_SAMPLE_AES_AVC = 0xdb;
const STREAM_TYPE_SAMPLE_AES_ADTS = 0xcf;
const PRIVATE_DATA_INDICATOR = 0x0f;
const REGISTRATION = 0x05;

/**
 * `ts` with each PMT rewritten for SAMPLE-AES. `audioSpecificConfig` is the AAC stream's (ISO/IEC
 * 14496-3), carried as the audio setup information's setup data.
 */
export function markSampleAesStreams(ts: Buffer, audioSpecificConfig: Buffer): Buffer {
  if (ts.length % PACKET !== 0) throw new Error(`not whole TS packets: ${ts.length} bytes`);
  const out = Buffer.from(ts);
  const pmtPids = new Set<number>();
  for (let at = 0; at < out.length; at += PACKET) {
    const packet = out.subarray(at, at + PACKET);
    if (packet[0] !== SYNC) throw new Error(`no TS sync byte at ${at}`);
    const pid = ((packet[1]! & 0x1f) << 8) | packet[2]!;
    const unitStart = (packet[1]! & 0x40) !== 0;
    if (!unitStart || (pid !== PAT_PID && !pmtPids.has(pid))) continue;
    const payload = payloadStart(packet);
    const section = payload + 1 + packet[payload]!; // after pointer_field
    if (pid === PAT_PID) {
      for (const programPid of patProgramPids(packet.subarray(section))) pmtPids.add(programPid);
    } else {
      const rewritten = sampleAesPmt(packet.subarray(section), audioSpecificConfig);
      if (payload + 1 + rewritten.length > PACKET)
        throw new Error('the SAMPLE-AES PMT does not fit one TS packet');
      packet[payload] = 0; // pointer_field: the section follows at once
      rewritten.copy(packet, payload + 1);
      packet.fill(0xff, payload + 1 + rewritten.length);
    }
  }
  return out;
}

function payloadStart(packet: Buffer): number {
  const adaptation = (packet[3]! & 0x20) !== 0;
  return adaptation ? 5 + packet[4]! : 4;
}

function sectionLength(section: Buffer): number {
  return ((section[1]! & 0x0f) << 8) | section[2]!;
}

function patProgramPids(section: Buffer): number[] {
  const end = 3 + sectionLength(section) - 4; // before the CRC
  const pids: number[] = [];
  for (let at = 8; at + 4 <= end; at += 4) {
    const program = section.readUInt16BE(at);
    if (program !== 0) pids.push(section.readUInt16BE(at + 2) & 0x1fff);
  }
  return pids;
}

function sampleAesPmt(section: Buffer, audioSpecificConfig: Buffer): Buffer {
  const end = 3 + sectionLength(section) - 4;
  const programInfoLength = section.readUInt16BE(10) & 0x0fff;
  const head = section.subarray(0, 12 + programInfoLength);
  const streams: Buffer[] = [];
  for (let at = 12 + programInfoLength; at < end;) {
    const start = at;
    const streamType = section[at]!;
    const infoLength = section.readUInt16BE(at + 3) & 0x0fff;
    const entry = section.subarray(at, at + 5);
    const descriptors = section.subarray(at + 5, at + 5 + infoLength);
    at += 5 + infoLength;
    if (streamType === STREAM_TYPE_AVC) {
      streams.push(esEntry(entry, STREAM_TYPE_SAMPLE_AES_AVC, [descriptors, privateData('zavc')]));
    } else if (streamType === STREAM_TYPE_ADTS) {
      const setup = Buffer.concat([
        Buffer.from('zaac', 'latin1'),
        Buffer.from([0, 0]), // priming: none signalled
        Buffer.from([1, audioSpecificConfig.length]), // version, setup_data_length
        audioSpecificConfig,
      ]);
      const registration = Buffer.concat([
        Buffer.from([REGISTRATION, 4 + setup.length]),
        Buffer.from('apad', 'latin1'),
        setup,
      ]);
      streams.push(
        esEntry(entry, STREAM_TYPE_SAMPLE_AES_ADTS, [
          descriptors,
          privateData('aacd'),
          registration,
        ]),
      );
    } else {
      streams.push(section.subarray(start, at));
    }
  }
  const body = Buffer.concat([head, ...streams]);
  // section_length counts from after its own field through the CRC.
  body.writeUInt16BE((body.readUInt16BE(1) & 0xf000) | (body.length - 3 + 4), 1);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(mpegCrc32(body));
  return Buffer.concat([body, crc]);
}

function privateData(fourCc: string): Buffer {
  return Buffer.concat([Buffer.from([PRIVATE_DATA_INDICATOR, 4]), Buffer.from(fourCc, 'latin1')]);
}

function esEntry(entry: Buffer, streamType: number, descriptors: Buffer[]): Buffer {
  const info = Buffer.concat(descriptors);
  const head = Buffer.from(entry);
  head[0] = streamType;
  head.writeUInt16BE((head.readUInt16BE(3) & 0xf000) | info.length, 3);
  return Buffer.concat([head, info]);
}

/** CRC-32/MPEG-2: polynomial 0x04C11DB7, initial value all ones, no reflection, no final XOR. */
function mpegCrc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc >>> 0;
}
