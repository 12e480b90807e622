import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestOrigin,
  KEY_SYSTEM_TAGS,
  makeStream,
  makeTestCertificates,
  SAMPLE_AES_KEY,
  serveFileOrigin,
  type FileOriginOptions,
  type FileOriginRequest,
  type TestCertificates,
  type MadeStream,
  type StreamKind,
  type TestOrigin,
} from '@hlsdump/test-origin';
import {
  HlsDump,
  originClientFor,
  type DumpProgress,
  type DumpRequest,
  type OriginAccess,
} from '@hlsdump/dump-engine';
import { LocalStorage } from '@hlsdump/storage';
import { expectCopiedBytes, type CopiedFiles } from '../support/copied-bytes.js';
import { startDump, tempDir } from '../support/dump-kit.js';
import { ffmpegDecodeErrors } from '../support/ffmpeg-decode.js';
import {
  startHlsPlayer,
  type HlsPlayer,
  type PlaybackResult,
  type PlayOptions,
} from '../support/hls-player.js';
import { expectConsistentItems, readInfoFile } from '../support/info-file-check.js';
import { verifyDump } from '../support/verify-dump.js';

interface DumpedKind {
  made: MadeStream;
  outputPath: string;
  result: DumpProgress;
  copied: CopiedFiles;
  playback: PlaybackResult;
  decodeErrors: string;
  masterText: string;
  /** Every request the origin answered: the dump's first, then the player's and ffmpeg's. */
  requests: readonly FileOriginRequest[];
  /** How many of `requests` the dump made, and how many came before the player's. */
  dumpRequests: number;
  playRequests: number;
  originBaseUrl: string;
}

const RETRY = {
  maxRetries: 3,
  retryDelayMs: 20,
  maxRetryDelayMs: 200,
  backoff: 'exponential' as const,
};
const NO_RETRY = { ...RETRY, maxRetries: 0 };

describe('every kind of stream: the dump holds the origin’s bytes and a real player plays it', () => {
  let player: HlsPlayer;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    player = await startHlsPlayer();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await player?.close();
  });

  let certificates: Promise<TestCertificates> | undefined;
  /** One CA and server certificate for the HTTPS tests (RSA key generation takes a moment). */
  function testCertificates(): Promise<TestCertificates> {
    certificates ??= makeTestCertificates().then((made) => {
      cleanups.push(made.remove);
      return made;
    });
    return certificates;
  }

  /** Makes the stream, serves it, dumps it whole (it has ENDLIST), checks bytes, decodes and plays it. */
  async function dumpAndPlay(
    kind: StreamKind,
    origin: FileOriginOptions = {},
    access?: OriginAccess,
    decodeOptions: string[] = [],
    playOptions: PlayOptions = {},
  ): Promise<DumpedKind> {
    const made = await makeStream(kind);
    cleanups.push(made.remove);
    const served = await serveFileOrigin(made.dir, { entryPlaylists: [made.master], ...origin });
    cleanups.push(served.close);
    const dir = await tempDir(`kind-${kind}`);
    cleanups.push(dir.remove);
    const outputPath = join(dir.path, 'out');
    const infoFile = join(dir.path, 'info.xml');
    const request: DumpRequest = {
      originBaseUrl: served.baseUrl,
      playlists: [made.master],
      outputPath,
      infoFile,
      streamName: `/default/app/${kind}`,
      ...(access && { origin: access }),
    };
    // The client the worker would make for this request: the app's headers and CA included.
    const run = await startDump(request, { client: originClientFor(request, { retry: RETRY }) });
    const result = await run.dump.done;
    await run.close();
    const dumpRequests = served.requests.length;
    const why = JSON.stringify(result, null, 1);
    expect(result.status, why).toBe('Completed');
    expect(result.gaps, why).toBe(0);
    const info = await readInfoFile(infoFile);
    expect(info.status).toBe('Completed');
    expectConsistentItems(info);

    const copied = await expectCopiedBytes(made.dir, outputPath, made.master, served.baseUrl);
    const decodeErrors = await ffmpegDecodeErrors(join(outputPath, made.master), decodeOptions);
    const playRequests = served.requests.length;
    const playback = await player.play(outputPath, made.master, playOptions);
    const masterText = await readFile(join(outputPath, made.master), 'utf8');
    return {
      made,
      outputPath,
      result,
      copied,
      playback,
      decodeErrors,
      masterText,
      requests: served.requests,
      dumpRequests,
      playRequests,
      originBaseUrl: served.baseUrl,
    };
  }

  it('plain MPEG-TS', async () => {
    const dumped = await dumpAndPlay('plain-ts');
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    expect(dumped.copied.segments).toBeGreaterThanOrEqual(6);
    expect(dumped.result.notices).toEqual([]);
  });

  it('plain fMP4', async () => {
    const dumped = await dumpAndPlay('plain-fmp4');
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    expect(dumped.copied.inits.size).toBe(1);
    expect(dumped.result.notices).toEqual([]);
  });

  it('AES-128 with the key rotated mid-stream: both keys copied, URIs local', async () => {
    // ffmpeg opens no local key file unless told: a safety default for playlists on disk.
    const dumped = await dumpAndPlay('aes-128', {}, undefined, ['-allowed_extensions', 'ALL']);
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    expect([...dumped.copied.keys].sort()).toEqual(['key0.key', 'key1.key']);
    expect(new Set(dumped.copied.keyLines.map((line) => /IV=(\w+)/.exec(line)?.[1])).size).toBe(2);
    expect(dumped.result.notices).toEqual([]);
  });

  it('SAMPLE-AES beside FairPlay and Widevine tags: the tags kept, the key left at the origin, played and decoded', async () => {
    // The copy names the origin's key server, as the origin's playlist does; ffmpeg, reading a
    // playlist from disk, fetches over HTTP only when told to.
    const dumped = await dumpAndPlay('sample-aes-drm', { crossOrigin: true }, undefined, [
      ...['-protocol_whitelist', 'file,http,tcp'],
    ]);
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    const keyUrl = new URL('keys/sample-aes.key', dumped.originBaseUrl).href;
    expect(dumped.copied.keyLines).toEqual(
      expect.arrayContaining([
        KEY_SYSTEM_TAGS[0],
        KEY_SYSTEM_TAGS[1],
        `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="${keyUrl}",IV=0x${SAMPLE_AES_KEY.iv.toString('hex')}`,
      ]),
    );
    expect(await readdir(dumped.outputPath)).not.toContain('sample-aes.key');
    // The dump never fetched the key; ffmpeg, then the player, did, from the origin.
    const keyRequests = (from: number, to?: number) =>
      dumped.requests.slice(from, to).filter((r) => r.path === '/keys/sample-aes.key');
    expect(keyRequests(0, dumped.dumpRequests)).toEqual([]);
    expect(keyRequests(dumped.dumpRequests, dumped.playRequests).length).toBeGreaterThan(0);
    expect(keyRequests(dumped.playRequests).length).toBeGreaterThan(0);
    for (const request of keyRequests(dumped.dumpRequests)) expect(request.status).toBe(200);
    // The media is encrypted: a segment read without its key does not decode.
    const segment = dumped.copied.segmentFiles[1]!;
    expect(await ffmpegDecodeErrors(join(dumped.outputPath, segment))).toMatch(/error/i);
    expect(dumped.result.notices).toEqual([
      expect.stringMatching(
        /^stream\.m3u8: EXT-X-KEY METHOD=SAMPLE-AES KEYFORMAT=com\.apple\.streamingkeydelivery kept as is: .*license server/,
      ),
      expect.stringMatching(
        /^stream\.m3u8: EXT-X-KEY METHOD=SAMPLE-AES KEYFORMAT=urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed kept as is: .*license server/,
      ),
      expect.stringMatching(
        /^stream\.m3u8: EXT-X-KEY METHOD=SAMPLE-AES KEYFORMAT=identity kept as is: the copy plays only where http:\/\/127\.0\.0\.1:\d+ answers/,
      ),
    ]);
    expect(dumped.masterText).toContain(
      KEY_SYSTEM_TAGS[0].replace('#EXT-X-KEY:', '#EXT-X-SESSION-KEY:'),
    );
    // Another key at the origin, and the same copy no longer plays: the player decrypted it.
    await writeFile(join(dumped.made.dir, 'keys', 'sample-aes.key'), Buffer.alloc(16, 7));
    const wrongKey = await player.play(dumped.outputPath, dumped.made.master);
    expect(wrongKey.outcome, JSON.stringify(wrongKey)).not.toBe('ended');
    expect(wrongKey.fatal.length, JSON.stringify(wrongKey)).toBeGreaterThan(0);
  });

  it('byte-range segments and a byte-range EXT-X-MAP: each range copied to a file of its own', async () => {
    const dumped = await dumpAndPlay('byte-range');
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    const files = await readdir(dumped.outputPath);
    expect(files.filter((f) => /^main_\d+-\d+\.mp4$/.test(f)).length).toBe(
      dumped.copied.segments + 1,
    );
    expect(dumped.result.notices).toEqual([]);
  });

  let alternate: Promise<DumpedKind> | undefined;
  /** One dump of the stream with alternate renditions, for the two tests of what it carries. */
  const alternateRenditions = (): Promise<DumpedKind> =>
    (alternate ??= dumpAndPlay('alternate-renditions'));

  it('WebVTT subtitles and an I-frame playlist named by the master', async () => {
    const dumped = await alternateRenditions();
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    expect(dumped.playback.subtitleTracks).toHaveLength(1);
    const iframes = await readFile(join(dumped.outputPath, 'iframes.m3u8'), 'utf8');
    expect(iframes).toContain('#EXT-X-I-FRAMES-ONLY\n');
    expect(dumped.copied.chunklists).toEqual(
      expect.arrayContaining(['video.m3u8', 'video_vtt.m3u8', 'iframes.m3u8']),
    );
    expect(dumped.masterText).toMatch(/#EXT-X-I-FRAME-STREAM-INF:.*URI="iframes\.m3u8"/);
  });

  it('alternate audio in two languages, SESSION-DATA and START', async () => {
    const dumped = await alternateRenditions();
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    expect(dumped.playback.audioTracks.map((track) => track.split('/')[1])).toEqual(['en', 'fr']);
    expect(dumped.copied.chunklists).toEqual(
      expect.arrayContaining(['audio_en.m3u8', 'audio_fr.m3u8']),
    );
    expect(dumped.masterText).toContain('#EXT-X-START:TIME-OFFSET=1.0\n');
    expect(dumped.masterText).toContain('DATA-ID="com.example.title",VALUE="hlsdump test stream"');
    // Session data is not a rendition: it keeps the origin's URL, and the dump says so.
    expect(dumped.masterText).toMatch(
      /DATA-ID="com\.example\.lyrics",URI="http:\/\/127\.0\.0\.1:\d+\/session\.json"/,
    );
    expect(dumped.result.notices).toEqual([
      expect.stringMatching(
        /^master\.m3u8: EXT-X-SESSION-DATA URI kept at the origin: the copy reads \/session\.json only where http:\/\/127\.0\.0\.1:\d+ answers$/,
      ),
    ]);
  });

  it('ad markers: DATERANGE with SCTE35, CUE-OUT/IN, GAP, DISCONTINUITY-SEQUENCE, a new init after a discontinuity', async () => {
    const dumped = await dumpAndPlay('ad-markers');
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    expect(dumped.copied.gaps).toBe(1);
    expect(dumped.copied.inits).toEqual(new Set(['init0.mp4', 'init1.mp4']));
    const tags = dumped.copied.tagLines.join('\n');
    for (const tag of [
      'SCTE35-OUT=0xFC30',
      'SCTE35-IN=0xFC30',
      '#EXT-X-CUE-OUT:2.0',
      '#EXT-X-CUE-OUT-CONT',
      '#EXT-X-CUE-IN',
    ])
      expect(tags).toContain(tag);
    const chunklist = await readFile(join(dumped.outputPath, 'stream.m3u8'), 'utf8');
    expect(chunklist).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:5\n');
    expect(chunklist).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init1.mp4"/);
    expect(dumped.result.notices).toEqual([]);
  });

  it('signed URLs: every request carries the token the playlist gave, the files keep plain names', async () => {
    const dumped = await dumpAndPlay('plain-ts', { signedUrls: true });
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.decodeErrors).toBe('');
    const files = await readdir(dumped.outputPath);
    expect(files.some((f) => f.includes('token'))).toBe(false);
    const signed = dumped.requests.filter((r) => r.path !== '/master.m3u8');
    expect(signed.length).toBeGreaterThan(6);
    for (const request of signed) {
      expect(request.query, request.path).toMatch(/^\?token=/);
      expect(request.status, request.path).toBe(200);
    }
    // A token minted per response: no two requests carried the same one.
    expect(new Set(signed.map((r) => r.query)).size).toBe(signed.length);
    expect(dumped.result.notices).toEqual([]);
  });

  it('an origin that requires a header: the app’s headers go with every request', async () => {
    const header = { name: 'X-Origin-Auth', value: `secret-${process.pid}` };
    const origin: OriginAccess = { headers: { [header.name]: header.value } };
    const dumped = await dumpAndPlay('plain-fmp4', { requiredHeader: header }, origin);
    expect(dumped.decodeErrors).toBe('');
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.requests.length).toBeGreaterThan(6);
    expect(dumped.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(dumped.result.notices).toEqual([]);
  });

  it('an HTTPS origin whose certificate comes from a CA made in the test', async () => {
    const certificates = await testCertificates();
    const dumped = await dumpAndPlay(
      'plain-ts',
      { tls: { key: certificates.key, cert: certificates.cert } },
      { caFile: certificates.caFile },
    );
    expect(dumped.decodeErrors).toBe('');
    expectPlayedToTheEnd(dumped.playback);
    expect(dumped.requests.length).toBeGreaterThan(6);
    expect(dumped.result.notices).toEqual([]);
  });

  it('an HTTPS origin whose CA the app does not name: the dump fails, saying why', async () => {
    const certificates = await testCertificates();
    const made = await makeStream('plain-ts');
    cleanups.push(made.remove);
    const served = await serveFileOrigin(made.dir, {
      tls: { key: certificates.key, cert: certificates.cert },
    });
    cleanups.push(served.close);
    const dir = await tempDir('kind-untrusted');
    cleanups.push(dir.remove);
    const client = originClientFor({}, { retry: NO_RETRY });
    const dump = new HlsDump(
      {
        originBaseUrl: served.baseUrl,
        playlists: [made.master],
        outputPath: join(dir.path, 'out'),
        streamName: '/default/app/untrusted',
      },
      { storage: new LocalStorage(), client, limits: { retry: NO_RETRY } },
    );
    await expect(dump.start()).rejects.toThrow(/certificate/i);
    await client.close();
    expect(served.requests).toEqual([]);
  });
});

function expectPlayedToTheEnd(playback: PlaybackResult): void {
  const why = JSON.stringify(playback, null, 1);
  expect(playback.fatal, why).toEqual([]);
  expect(playback.outcome, why).toBe('ended');
  expect(playback.seekedTo, why).toBeGreaterThan(0);
  expect(playback.events, why).toEqual(expect.arrayContaining(['playing', 'seeked', 'ended']));
}

describe('a live LL-HLS fMP4 stream: the dump of its complete segments plays', () => {
  let player: HlsPlayer;
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    player = await startHlsPlayer();
    origin = await createTestOrigin({ speed: 8 });
    dir = await tempDir('kind-llhls');
  });
  afterAll(async () => {
    await player?.close();
    await origin?.close();
    await dir?.remove();
  });

  it('LL-HLS fMP4: bytes equal, ffmpeg decodes, hls.js reaches the end', async () => {
    const stream = origin.addStream('app', 'stream', { windowSegments: 6 });
    const outputPath = join(dir.path, 'out');
    const infoFile = join(dir.path, 'info.xml');
    const streamName = '/default/app/stream';
    const run = await startDump({
      originBaseUrl: new URL('.', stream.masterUrl).href,
      playlists: ['llhls.m3u8'],
      outputPath,
      infoFile,
      streamName,
    });
    await run.segmentsWritten(4);
    const result = await run.dump.stop();
    await run.close();
    expect(result.status).toBe('Completed');
    expect(result.notices).toEqual([]);
    await verifyDump(stream, { outputPath, infoFile, streamName }, { minSegments: 4 });
    expect(await ffmpegDecodeErrors(join(outputPath, 'llhls.m3u8'))).toBe('');
    expectPlayedToTheEnd(await player.play(outputPath, 'llhls.m3u8'));
  });
});
