// Finished HLS streams of every kind a platform serves, made by ffmpeg's own HLS muxer in a few
// seconds (no -re) and, where ffmpeg has no switch for a tag, completed the way a packager would
// (ad markers, I-frame playlists, session data). Each is a directory with `master.m3u8`.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { markSampleAesStreams } from './sample-aes-pmt.js';
import { adtsAudioSpecificConfig, encryptAdtsStream, encryptAvcStream } from './sample-aes.js';

const run = promisify(execFile);

export const STREAM_KINDS = [
  'plain-ts',
  'plain-fmp4',
  'aes-128',
  'sample-aes-drm',
  'byte-range',
  'alternate-renditions',
  'ad-markers',
] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

export interface MadeStream {
  kind: StreamKind;
  dir: string;
  /** The entry playlist's name in `dir`. */
  master: string;
  remove(): Promise<void>;
}

/** Seconds of media in every stream: short, so the whole player suite stays fast. */
export const STREAM_SECONDS = 6;

const VIDEO = [
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '300k'],
  // A keyframe every second: every segment starts with one.
  ...['-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0'],
];
const AUDIO = ['-c:a', 'aac', '-b:a', '64k', '-ac', '1'];
const HLS_VOD = ['-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', '-hls_playlist_type', 'vod'];

function testSource(seconds: number, size = '320x180', tone = 440): string[] {
  return [
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=${tone}:sample_rate=48000:duration=${seconds}`],
  ];
}

async function ffmpeg(dir: string, args: string[]): Promise<void> {
  try {
    await run('ffmpeg', ['-hide_banner', '-v', 'error', '-nostdin', '-y', ...args], { cwd: dir });
  } catch (error) {
    throw new Error(`ffmpeg failed in ${dir}: ${(error as { stderr?: string }).stderr ?? error}`);
  }
}

export async function makeStream(kind: StreamKind): Promise<MadeStream> {
  const dir = await mkdtemp(join(tmpdir(), `hlsdump-kind-${kind}-`));
  try {
    await BUILDERS[kind](dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    kind,
    dir,
    master: 'master.m3u8',
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

const BUILDERS: Record<StreamKind, (dir: string) => Promise<void>> = {
  'plain-ts': (dir) => plainStream(dir, 'mpegts'),
  'plain-fmp4': (dir) => plainStream(dir, 'fmp4'),
  'aes-128': aes128WithRotation,
  'sample-aes-drm': sampleAesWithKeySystems,
  'byte-range': byteRangeStream,
  'alternate-renditions': alternateRenditions,
  'ad-markers': adMarkers,
};

async function plainStream(dir: string, type: 'mpegts' | 'fmp4'): Promise<void> {
  await ffmpeg(dir, [
    ...testSource(STREAM_SECONDS),
    ...['-map', '0:v', '-map', '1:a', ...VIDEO, ...AUDIO, ...HLS_VOD],
    ...(type === 'fmp4'
      ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4']
      : ['-hls_segment_filename', 'seg_%03d.ts']),
    ...['-hls_flags', 'independent_segments+program_date_time'],
    ...['-master_pl_name', 'master.m3u8', 'stream.m3u8'],
  ]);
}

/**
 * AES-128 by ffmpeg's own -hls_key_info_file, with the key rotated half-way: the second half's
 * segments are decrypted and encrypted again under a second key by the openssl command (AES-128-CBC
 * with PKCS#7 padding over the whole segment, as RFC 8216 §5.2 defines it), and a new EXT-X-KEY
 * stands before the first of them, as a packager's periodic re-key writes it. Keys live in `keys/`.
 */
async function aes128WithRotation(dir: string): Promise<void> {
  await mkdir(join(dir, 'keys'));
  const keys = [0, 1].map((index) =>
    Buffer.from(Array.from({ length: 16 }, (_, i) => (i * 17 + index * 101) % 256)),
  ) as [Buffer, Buffer];
  const ivs = ['0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'ffeeddccbbaa99887766554433221100'] as const;
  for (const [index, key] of keys.entries())
    await writeFile(join(dir, 'keys', `key${index}.key`), key);
  await writeFile(
    join(dir, 'keyinfo.txt'),
    `keys/key0.key\n${join(dir, 'keys', 'key0.key')}\n${ivs[0]}\n`,
  );
  await ffmpeg(dir, [
    ...testSource(STREAM_SECONDS),
    ...['-map', '0:v', '-map', '1:a', ...VIDEO, ...AUDIO, ...HLS_VOD],
    ...['-hls_key_info_file', join(dir, 'keyinfo.txt')],
    ...['-hls_segment_filename', 'enc_%03d.ts', '-master_pl_name', 'master.m3u8', 'stream.m3u8'],
  ]);
  await rm(join(dir, 'keyinfo.txt'));
  const lines = (await readFile(join(dir, 'stream.m3u8'), 'utf8')).split('\n');
  const segments = lines.filter((line) => line !== '' && !line.startsWith('#'));
  const rotated = segments.slice(Math.floor(segments.length / 2));
  for (const segment of rotated) {
    const path = join(dir, segment);
    const openssl = (args: string[]) =>
      run('openssl', ['enc', '-aes-128-cbc', ...args], { cwd: dir });
    await openssl([
      '-d',
      '-K',
      keys[0].toString('hex'),
      '-iv',
      ivs[0],
      '-in',
      path,
      '-out',
      `${path}.clear`,
    ]);
    await openssl([
      '-K',
      keys[1].toString('hex'),
      '-iv',
      ivs[1],
      '-in',
      `${path}.clear`,
      '-out',
      path,
    ]);
    await rm(`${path}.clear`);
  }
  const firstRotated = lines.findIndex((line) => line === rotated[0]) - 1; // its EXTINF
  lines.splice(firstRotated, 0, `#EXT-X-KEY:METHOD=AES-128,URI="keys/key1.key",IV=0x${ivs[1]}`);
  await writeFile(join(dir, 'stream.m3u8'), lines.join('\n'));
}

/** The SAMPLE-AES key the origin serves, and the IV its EXT-X-KEY names. */
export const SAMPLE_AES_KEY = {
  key: Buffer.from('5a4d3c2b1a0918273645546372819faf', 'hex'),
  iv: Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
};
/** Key systems offered beside it, which a player without their license servers passes over. */
export const KEY_SYSTEM_TAGS = [
  '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://hlsdump-test-key",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"',
  '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,AAAAW3Bzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAADsIARIQ",KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",KEYFORMATVERSIONS="1"',
] as const;

/**
 * Real SAMPLE-AES media (MPEG-TS, H.264 and AAC, see sample-aes.ts) whose key the origin serves
 * at `keys/sample-aes.key`, offered beside a FairPlay `skd://` and a Widevine `data:` key tag as
 * a multi-key-system packager writes them, and EXT-X-SESSION-KEY in the master. ffmpeg's HLS
 * muxer cannot encrypt samples: it writes clear elementary streams, they are encrypted here, and
 * ffmpeg muxes the encrypted streams unchanged (its parsers read only the clear headers).
 */
async function sampleAesWithKeySystems(dir: string): Promise<void> {
  await ffmpeg(dir, [
    ...testSource(STREAM_SECONDS),
    // The picture cuts to black for its last 0.2 s, as programmes end: those frames' slices are
    // under 48 bytes, which the format leaves clear. ffmpeg's HLS reader decrypts a packet only
    // while its segment is current, and the last two frames leave its parsers after the last
    // segment has ended; were they encrypted, ffmpeg alone would decode them wrong.
    ...['-map', '0:v', '-vf', `drawbox=color=black:t=fill:enable='gte(t,${STREAM_SECONDS - 0.2})'`],
    ...[...VIDEO, '-f', 'h264', 'clear.h264'],
    ...['-map', '1:a', ...AUDIO, '-f', 'adts', 'clear.aac'],
  ]);
  const video = encryptAvcStream(await readFile(join(dir, 'clear.h264')), SAMPLE_AES_KEY);
  const clearAudio = await readFile(join(dir, 'clear.aac'));
  await writeFile(join(dir, 'sample-aes.h264'), video);
  await writeFile(join(dir, 'sample-aes.aac'), encryptAdtsStream(clearAudio, SAMPLE_AES_KEY));
  await ffmpeg(dir, [
    ...['-framerate', '30', '-f', 'h264', '-i', 'sample-aes.h264'],
    ...['-f', 'aac', '-i', 'sample-aes.aac'],
    ...['-map', '0:v', '-map', '1:a', '-c', 'copy', ...HLS_VOD],
    ...['-hls_flags', 'independent_segments'],
    ...['-hls_segment_filename', 'sample_%03d.ts', '-master_pl_name', 'master.m3u8', 'stream.m3u8'],
  ]);
  for (const name of ['clear.h264', 'clear.aac', 'sample-aes.h264', 'sample-aes.aac'])
    await rm(join(dir, name));
  const audioConfig = adtsAudioSpecificConfig(clearAudio);
  const media = await readFile(join(dir, 'stream.m3u8'), 'utf8');
  for (const segment of media.split('\n').filter((line) => line !== '' && !line.startsWith('#'))) {
    const path = join(dir, segment);
    await writeFile(path, markSampleAesStreams(await readFile(path), audioConfig));
  }
  await mkdir(join(dir, 'keys'));
  await writeFile(join(dir, 'keys', 'sample-aes.key'), SAMPLE_AES_KEY.key);
  // The key a player can have comes last: ffmpeg's HLS reader reads no KEYFORMAT and takes the
  // last EXT-X-KEY before a segment; hls.js picks the identity key wherever it stands. One key and
  // an explicit IV for all segments, as packagers write SAMPLE-AES: ffmpeg decrypts a frame that
  // leaves its parsers after its own segment with the next segment's IV.
  const keys = [
    ...KEY_SYSTEM_TAGS,
    `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="keys/sample-aes.key",IV=0x${SAMPLE_AES_KEY.iv.toString('hex')}`,
  ];
  // KEYFORMAT and SAMPLE-AES need protocol version 5 (RFC 8216 section 7).
  const lines = media.replace(/#EXT-X-VERSION:\d+/, '#EXT-X-VERSION:5').split('\n');
  lines.splice(
    lines.findIndex((line) => line.startsWith('#EXTINF:')),
    0,
    ...keys,
  );
  await writeFile(join(dir, 'stream.m3u8'), lines.join('\n'));
  const master = await readFile(join(dir, 'master.m3u8'), 'utf8');
  await writeFile(
    join(dir, 'master.m3u8'),
    master.replace(
      '#EXTM3U\n',
      `#EXTM3U\n${KEY_SYSTEM_TAGS[0].replace('#EXT-X-KEY:', '#EXT-X-SESSION-KEY:')}\n`,
    ),
  );
}

/** One resource for all segments (-hls_flags single_file): byte-range segments and EXT-X-MAP. */
async function byteRangeStream(dir: string): Promise<void> {
  await ffmpeg(dir, [
    ...testSource(STREAM_SECONDS),
    ...['-map', '0:v', '-map', '1:a', ...VIDEO, ...AUDIO, ...HLS_VOD],
    ...['-hls_segment_type', 'fmp4', '-hls_flags', 'single_file+independent_segments'],
    ...['-hls_segment_filename', 'main.mp4'],
    ...['-master_pl_name', 'master.m3u8', 'stream.m3u8'],
  ]);
}

/**
 * Video, audio in English and French (one EXT-X-MEDIA group), WebVTT subtitles, an I-frame
 * playlist of byte ranges into the video segments, EXT-X-SESSION-DATA and EXT-X-START.
 */
async function alternateRenditions(dir: string): Promise<void> {
  await writeFile(
    join(dir, 'subtitles.srt'),
    '1\n00:00:00,500 --> 00:00:02,000\nHello\n\n2\n00:00:02,500 --> 00:00:05,000\nBonjour\n',
  );
  await ffmpeg(dir, [
    ...testSource(STREAM_SECONDS),
    ...['-f', 'lavfi', '-i', `sine=frequency=660:sample_rate=48000:duration=${STREAM_SECONDS}`],
    ...['-i', 'subtitles.srt'],
    ...['-map', '0:v', '-map', '1:a', '-map', '2:a', '-map', '3:s'],
    ...VIDEO,
    ...AUDIO,
    ...['-c:s', 'webvtt', ...HLS_VOD],
    ...[
      '-var_stream_map',
      'v:0,s:0,agroup:aud,sgroup:subs,name:video a:0,agroup:aud,language:en,name:audio_en,default:yes a:1,agroup:aud,language:fr,name:audio_fr',
    ],
    ...['-hls_segment_filename', '%v_%03d.ts', '-master_pl_name', 'master.m3u8', '%v.m3u8'],
  ]);
  await rm(join(dir, 'subtitles.srt'));
  await writeFile(join(dir, 'iframes.m3u8'), await iFramePlaylist(dir, 'video.m3u8'));
  const master = await readFile(join(dir, 'master.m3u8'), 'utf8');
  const head =
    '#EXTM3U\n#EXT-X-START:TIME-OFFSET=1.0\n' +
    '#EXT-X-SESSION-DATA:DATA-ID="com.example.title",VALUE="hlsdump test stream",LANGUAGE="en"\n' +
    '#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="session.json"\n';
  await writeFile(join(dir, 'session.json'), '{"title":"hlsdump test stream"}\n');
  await writeFile(
    join(dir, 'master.m3u8'),
    master.replace('#EXTM3U\n', head).trimEnd() +
      '\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,RESOLUTION=320x180,CODECS="avc1.42c00d",URI="iframes.m3u8"\n',
  );
}

/**
 * Each video segment's keyframe as a byte range: from the segment's start (PAT, PMT) to where the
 * next video packet begins, as ffprobe reads the positions.
 */
async function iFramePlaylist(dir: string, mediaPlaylist: string): Promise<string> {
  const media = await readFile(join(dir, mediaPlaylist), 'utf8');
  const segments = media.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  let text =
    '#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n';
  for (const segment of segments) {
    const { stdout } = await run(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        'v',
        '-show_entries',
        'packet=pos,flags',
        '-of',
        'csv=p=0',
        segment,
      ],
      { cwd: dir },
    );
    const packets = stdout
      .split('\n')
      .filter((row) => /^\d/.test(row))
      .map((row) => row.split(','));
    const next = Number(packets[1]?.[0]);
    const size = (await readFile(join(dir, segment))).length;
    const length = Number.isFinite(next) ? Math.ceil(next / 188) * 188 : size;
    text += `#EXTINF:1.000000,\n#EXT-X-BYTERANGE:${Math.min(length, size)}@0\n${segment}\n`;
  }
  return text + '#EXT-X-ENDLIST\n';
}

/**
 * An ad break as SSAI platforms mark it: EXT-X-DATERANGE with SCTE35-OUT/IN, CUE-OUT, CUE-OUT-CONT
 * and CUE-IN around a discontinuity into content with a new init segment,
 * one segment the origin marks EXT-X-GAP (no file behind it), and a DISCONTINUITY-SEQUENCE.
 */
async function adMarkers(dir: string): Promise<void> {
  const half = STREAM_SECONDS / 2;
  const parts: string[] = [];
  for (const index of [0, 1]) {
    await ffmpeg(dir, [
      ...testSource(half, '320x180', 440 + index * 220),
      ...['-map', '0:v', '-map', '1:a', ...VIDEO, ...AUDIO, ...HLS_VOD],
      // The new init segment differs from the first (another audio language), its codec setup
      // does not: ffmpeg's HLS reader keeps the first decoder setup across a discontinuity.
      ...['-metadata:s:a:0', `language=${index === 0 ? 'eng' : 'fra'}`],
      ...['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', `init${index}.mp4`],
      ...['-hls_segment_filename', `part${index}_%03d.m4s`],
      ...['-hls_flags', 'independent_segments'],
      ...(index === 0 ? ['-master_pl_name', 'master.m3u8'] : []),
      `part${index}.m3u8`,
    ]);
    parts.push(await readFile(join(dir, `part${index}.m3u8`), 'utf8'));
  }
  const start = Date.parse('2026-12-01T10:00:00.000Z');
  const date = (seconds: number) => new Date(start + seconds * 1000).toISOString();
  const entries = [
    ...segmentEntries(parts[0]!).map((lines) => ({ lines, part: 0 })),
    ...segmentEntries(parts[1]!).map((lines) => ({ lines, part: 1 })),
  ];
  let text =
    '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n' +
    '#EXT-X-DISCONTINUITY-SEQUENCE:5\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n';
  let seconds = 0;
  for (const [index, entry] of entries.entries()) {
    if (index === 0) text += '#EXT-X-MAP:URI="init0.mp4"\n';
    if (entry.part === 1 && entries[index - 1]?.part === 0) {
      text += `#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init1.mp4"\n`;
      text += `#EXT-X-DATERANGE:ID="break-1",START-DATE="${date(seconds)}",PLANNED-DURATION=2.0,SCTE35-OUT=0xFC302000000000000000FFF00F05000000017FEFFE001B7740FE0002BF20000000\n`;
      text += '#EXT-X-CUE-OUT:2.0\n';
    }
    if (index === entries.length - 2) text += '#EXT-X-CUE-OUT-CONT:1.0/2.0\n';
    if (index === entries.length - 1) {
      text += '#EXT-X-CUE-IN\n';
      text += `#EXT-X-DATERANGE:ID="break-1",START-DATE="${date(seconds - 2)}",SCTE35-IN=0xFC302000000000000000FFF00F05000000017F4FFE001B7740FE0002BF20000000\n`;
    }
    text += `#EXT-X-PROGRAM-DATE-TIME:${date(seconds)}\n`;
    if (index === 1) {
      // A segment the packager lost: listed, marked, no file behind it.
      text += `#EXT-X-GAP\n${entry.lines[0]}\ngap_000.m4s\n`;
      await rm(join(dir, entry.lines[1]!));
    } else {
      text += `${entry.lines.join('\n')}\n`;
    }
    seconds += Number(/#EXTINF:([\d.]+)/.exec(entry.lines[0] ?? '')?.[1] ?? 1);
  }
  await writeFile(join(dir, 'stream.m3u8'), text + '#EXT-X-ENDLIST\n');
  const master = await readFile(join(dir, 'master.m3u8'), 'utf8');
  await writeFile(join(dir, 'master.m3u8'), master.replace('part0.m3u8', 'stream.m3u8'));
  await rm(join(dir, 'part0.m3u8'));
  await rm(join(dir, 'part1.m3u8'));
}

/** [EXTINF line, URI] of each segment. */
function segmentEntries(playlist: string): [string, string][] {
  const lines = playlist.split('\n');
  const entries: [string, string][] = [];
  for (const [index, line] of lines.entries()) {
    if (line.startsWith('#EXTINF:')) entries.push([line, lines[index + 1] ?? '']);
  }
  return entries;
}
