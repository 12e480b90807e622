import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAULT_KINDS,
  createFaultServer,
  createTestOrigin,
  faultsFor,
  type FaultKind,
  type FaultRequest,
  type FaultServer,
  type StreamControl,
  type TestOrigin,
} from '@hlsdump/test-origin';
import { OriginClient } from '@hlsdump/hls-client';
import { readInfoFile } from '../support/info-file-check.js';
import { startDump, tempDir, type RunningDump } from '../support/dump-kit.js';
import { verifyDump } from '../support/verify-dump.js';

/**
 * Every fault of the fault server, on a live LL-HLS stream passed through it, ends in exactly one
 * of: the stream copied byte for byte (a fault once, retried), a counted gap (a segment that never
 * comes right), or this dump's Error naming the reason (a playlist that never comes right). The
 * test process itself is the one that must not die: every dump runs in it.
 */

const LIMITS = {
  goneAfterMs: 3_000,
  unreachableAfterMs: 3_000,
  segmentAttempts: 2,
  retry: { maxRetries: 3, retryDelayMs: 50, maxRetryDelayMs: 300, backoff: 'exponential' as const },
};

/** A client quick to give up, so that persistent faults end within seconds. */
function faultClient(): OriginClient {
  return new OriginClient({
    retry: { maxRetries: 3, retryDelayMs: 20, maxRetryDelayMs: 200, backoff: 'exponential' },
    // A byte a second never trips the silence timeout: the body deadline must cut the drip.
    bodyTimeoutMs: 4_000,
    bodyDeadlineMs: 1_500,
    playlistDeadlineMs: 1_500,
  });
}

/** What ends a dump whose video playlist answers with this fault on every reload. */
const PLAYLIST_FAILURE: Partial<Record<FaultKind, string>> = {
  'short-body': 'ORIGIN_UNREACHABLE',
  reset: 'ORIGIN_UNREACHABLE',
  'huge-playlist': 'ORIGIN_BODY_TOO_LARGE',
  'binary-playlist': 'PLAYLIST_INVALID',
  'invalid-utf8-playlist': 'PLAYLIST_INVALID',
  drip: 'ORIGIN_BODY_TOO_SLOW',
  'redirect-loop': 'ORIGIN_REDIRECT_LOOP',
  'html-error': 'ORIGIN_HTML_PAGE',
  'partial-content': 'ORIGIN_PARTIAL_CONTENT',
  'too-many-requests': 'ORIGIN_UNREACHABLE',
  'huge-header': 'ORIGIN_HEADERS_TOO_LARGE',
};

/** What a gap's reason says when a segment answers with this fault every time. */
const SEGMENT_GAP_REASON: Partial<Record<FaultKind, RegExp>> = {
  'short-body': /other side closed|closed|ECONNRESET|UND_ERR_SOCKET/i,
  reset: /ECONNRESET|reset|closed/i,
  drip: /longer than 1500 ms/,
  'redirect-loop': /redirect loop/,
  'html-error': /HTML page/,
  'partial-content': /206 Partial Content/,
  'too-many-requests': /HTTP 429/,
  'huge-header': /header block/,
};

/** Compressed bodies are decoded, so the "fault" always ends in a byte-exact copy. */
const DECODED: ReadonlySet<FaultKind> = new Set(['gzip-unasked', 'br-unasked', 'deflate-unasked']);

describe('an origin that misbehaves on purpose', () => {
  let origin: TestOrigin;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const cleanups: (() => Promise<void>)[] = [];
  let streams = 0;

  beforeAll(async () => {
    origin = await createTestOrigin({ speed: 8 });
    dir = await tempDir('fault-server');
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await origin?.close();
    await dir?.remove();
  });

  interface Case {
    stream: StreamControl;
    faults: FaultServer;
    run: RunningDump;
    dump: { outputPath: string; infoFile: string; streamName: string };
    /** The video segment a case aims at: a few segments past the live edge at start. */
    targetPath: string;
    chunklistPath: string;
  }

  /**
   * A fresh live stream behind a fresh fault server, and a dump of it. `choose` sees every
   * request once the dump has started (the start itself is left alone).
   */
  async function dumpThrough(
    name: string,
    choose: (request: FaultRequest, c: Omit<Case, 'run' | 'faults'>) => FaultKind | undefined,
  ): Promise<Case> {
    const stream = origin.addStream('app', `s${streams++}`, { windowSegments: 40 });
    // Far enough ahead (2 s at ×8) that the dump is armed before it is asked for.
    const target = stream.status('video_0').completeSegments + 4;
    const base = {
      stream,
      targetPath: new URL(stream.segmentUrl('video_0', target)).pathname,
      chunklistPath: new URL(stream.chunklistUrl('video_0')).pathname,
      dump: {
        outputPath: join(dir.path, name, 'out'),
        infoFile: join(dir.path, name, 'info.xml'),
        streamName: `/default/app/${name}`,
      },
    };
    let armed = false;
    const faults = await createFaultServer({
      upstream: origin.url,
      choose: (request) => (armed ? choose(request, base) : undefined),
    });
    cleanups.push(faults.close);
    const originBaseUrl = new URL('.', stream.masterUrl.replace(origin.url, faults.url)).href;
    const run = await startDump(
      { ...base.dump, originBaseUrl, playlists: ['llhls.m3u8'] },
      { client: faultClient(), limits: LIMITS },
    );
    cleanups.push(run.close);
    armed = true;
    return { ...base, faults, run };
  }

  /** Records until the targeted segment and two after it are settled on every rendition. */
  async function recordPastTarget(c: Case): Promise<void> {
    await c.run.segmentsWritten(8);
  }

  describe.concurrent('once: retried, the stream copied byte for byte', () => {
    it.each(FAULT_KINDS)('%s', async (kind) => {
      const onSegment = faultsFor('media').includes(kind);
      let segmentFaults = 0;
      let playlistFaults = 0;
      const c = await dumpThrough(`once-${kind}`, (request, at) => {
        const path = request.path.split('?')[0];
        if (onSegment && path === at.targetPath && segmentFaults++ === 0) return kind;
        if (path === at.chunklistPath && playlistFaults++ === 0) return kind;
        return undefined;
      });
      await recordPastTarget(c);
      const result = await c.run.dump.stop();

      expect(c.faults.served[kind]).toBe(onSegment ? 2 : 1);
      expect(result.status).toBe('Completed');
      expect(result.gaps).toBe(0);
      await verifyDump(c.stream, c.dump, { minSegments: 8 });
    });
  });

  describe.concurrent('on every try of one segment: a counted gap, the rest byte for byte', () => {
    it.each(faultsFor('media'))('%s', async (kind) => {
      const c = await dumpThrough(`segment-${kind}`, (request, at) =>
        request.path.split('?')[0] === at.targetPath ? kind : undefined,
      );
      await recordPastTarget(c);
      const result = await c.run.dump.stop();

      expect(c.faults.served[kind]).toBeGreaterThan(0);
      expect(result.status).toBe('Completed');
      if (DECODED.has(kind)) {
        expect(result.gaps).toBe(0);
        await verifyDump(c.stream, c.dump, { minSegments: 8 });
        return;
      }
      expect(result.gaps).toBe(1);
      const gaps = c.run.events.filter((e) => e.type === 'gap');
      expect(gaps).toHaveLength(1);
      const gap = gaps[0]!;
      expect(gap.type === 'gap' && gap.reason).toMatch(SEGMENT_GAP_REASON[kind]!);
      // Every segment that was written is the origin's, byte for byte.
      for (const event of c.run.events) {
        if (event.type !== 'file' || event.kind !== 'segment') continue;
        expect(event.path.endsWith(c.targetPath.split('/').pop()!)).toBe(false);
      }
      const info = await readInfoFile(c.dump.infoFile);
      expect(info.status).toBe('Completed');
    });
  });

  describe.concurrent('on every reload of a playlist: this dump’s Error, with the reason', () => {
    it.each(Object.keys(PLAYLIST_FAILURE) as FaultKind[])('%s', async (kind) => {
      const c = await dumpThrough(`playlist-${kind}`, (request, at) =>
        request.path.split('?')[0] === at.chunklistPath ? kind : undefined,
      );
      const result = await c.run.dump.done;

      expect(c.faults.served[kind]).toBeGreaterThan(0);
      expect(result.status).toBe('Error');
      expect(result.error?.code).toBe(PLAYLIST_FAILURE[kind]);
      const info = await readInfoFile(c.dump.infoFile);
      expect(info.status).toBe('Error');
      expect(info.error).toContain(c.chunklistPath.split('/').pop()!);
      if (kind === 'too-many-requests') expect(info.error).toContain('429');
      if (kind === 'huge-playlist') expect(info.error).toContain('size limit of 16777216 bytes');
    });
  });
});
