import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StreamControl } from '@hlsdump/test-origin';
import type { Cluster, StartedDump } from './cluster.ts';
import { expect } from 'vitest';
import { baseName, readChunklist } from './dump-kit.ts';
import { ffprobe } from './ffprobe.ts';
import { expectConsistentItems, readInfoFile, type InfoDocument } from './info-file-check.ts';

export interface VerifiedDump {
  /** The origin's media sequence number of the first dumped segment (the same on every rendition). */
  firstMsn: number;
  /** Segments in each rendition's chunklist (equal on every rendition when `sameLength`). */
  segments: Record<string, number>;
  /** Summed EXTINF of video_0, and what ffprobe makes of the dumped master. */
  videoSeconds: number;
  probedSeconds: number;
  info: InfoDocument;
}

/**
 * Checks a finished dump on disk the way the engine test does, against the origin's own bytes:
 * every segment and init byte-equal, chunklists listing exactly the dumped segments in order with
 * the origin's EXTINF and PDT and ending with ENDLIST, the master playable by ffprobe within one
 * segment of the dumped span, and the infoFile Completed, Seq 0..n-1, every File present, every
 * file of outputPath listed.
 */
export async function verifyDump(
  stream: StreamControl,
  dump: { outputPath: string; infoFile: string; streamName: string },
  options: { minSegments: number; master?: string; context?: () => string },
): Promise<VerifiedDump> {
  const { outputPath, infoFile } = dump;
  const why = (what: string): string =>
    `${outputPath}: ${what}${options.context ? `\n${options.context()}` : ''}`;
  const segments: Record<string, number> = {};
  const firstMsns = new Set<number>();
  let videoSeconds = 0;
  for (const rendition of stream.renditions) {
    const id = rendition.id;
    const { text, details } = await readChunklist(
      join(outputPath, baseName(stream.chunklistUrl(id))),
    );
    expect(
      text.trimEnd().endsWith('#EXT-X-ENDLIST'),
      why(`${id} chunklist ends with ENDLIST`),
    ).toBe(true);
    expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:0\n');
    expect(text).not.toMatch(/#EXT-X-(PART|PRELOAD-HINT|SERVER-CONTROL|PART-INF)/);
    expect(details.segments.length, why(`${id} segments`)).toBeGreaterThanOrEqual(
      options.minSegments,
    );
    expect(
      details.segments.some((s) => s.discontinuity),
      why(`${id} has no discontinuity`),
    ).toBe(false);
    const first = details.segments[0]!;
    const firstMsn = msnOf(stream, id, baseName(first.uri));
    firstMsns.add(firstMsn);
    for (const [index, segment] of details.segments.entries()) {
      const msn = firstMsn + index;
      expect(baseName(segment.uri), why(`${id} segment ${index} in order`)).toBe(
        baseName(stream.segmentUrl(id, msn)),
      );
      expect(segment.duration).toBeCloseTo(stream.segmentDuration(id, msn), 5);
      expect(Date.parse(segment.programDateTime ?? '')).toBe(
        stream.programDateTime(id, msn).getTime(),
      );
      const bytes = await readFile(join(outputPath, baseName(segment.uri)));
      expect(bytes.equals(stream.segmentBytes(id, msn)), why(`${id} segment ${msn} bytes`)).toBe(
        true,
      );
      if (id === 'video_0') videoSeconds += segment.duration;
    }
    const map = first.map!;
    expect(baseName(map.uri)).toBe(baseName(stream.initUrl(id)));
    expect(
      (await readFile(join(outputPath, baseName(map.uri)))).equals(stream.initBytes(id)),
      why(`${id} init bytes`),
    ).toBe(true);
    segments[id] = details.segments.length;
  }
  // A dump starts at the live edge: the same MSN on every rendition.
  expect(firstMsns.size, why(`first MSNs ${[...firstMsns].join(',')}`)).toBe(1);

  const master = options.master ?? 'llhls.m3u8';
  const masterText = await readFile(join(outputPath, master), 'utf8');
  const files = new Set(await readdir(outputPath));
  const uris = [
    ...masterText.split('\n').filter((line) => line && !line.startsWith('#')),
    ...[...masterText.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!),
  ];
  expect(uris.length).toBeGreaterThan(0);
  for (const uri of uris) expect(files.has(uri), why(`${master} → ${uri}`)).toBe(true);

  const probe = await ffprobe(join(outputPath, master));
  expect(probe.streams.map((s) => s.codec_type)).toEqual(
    expect.arrayContaining(['audio', 'video']),
  );
  expect(
    Math.abs(probe.durationSeconds - videoSeconds),
    why(`ffprobe ${probe.durationSeconds} s vs ${videoSeconds} s dumped`),
  ).toBeLessThanOrEqual(stream.targetDuration);

  const info = await readInfoFile(infoFile);
  expect(info.status, why('infoFile status')).toBe('Completed');
  expect(info.stream).toBe(dump.streamName);
  expectConsistentItems(info);
  const listed = new Set(info.items.map((item) => item.file));
  for (const name of files)
    expect(listed.has(join(outputPath, name)), why(`${name} listed in the infoFile`)).toBe(true);

  return {
    firstMsn: [...firstMsns][0]!,
    segments,
    videoSeconds,
    probedSeconds: probe.durationSeconds,
    info,
  };
}

/** The origin's MSN of a dumped segment, found by name (the dump keeps the origin's base names). */
function msnOf(
  stream: StreamControl,
  id: StreamControl['renditions'][number]['id'],
  name: string,
): number {
  const newest = stream.status(id).completeSegments;
  for (let msn = newest; msn >= 0; msn--)
    if (baseName(stream.segmentUrl(id, msn)) === name) return msn;
  throw new Error(`${name} is no segment of ${id} at the origin`);
}

/** verifyDump for a dump started through a cluster's API; a failure carries the processes' output. */
export function verifyClusterDump(
  cluster: Cluster,
  stream: StreamControl,
  dump: StartedDump,
  minSegments: number,
): Promise<VerifiedDump> {
  return verifyDump(
    stream,
    {
      outputPath: dump.outputPath,
      infoFile: dump.infoFile!,
      streamName: `/${dump.vhost}/${dump.app}/${dump.stream}`,
    },
    { minSegments, context: () => cluster.logs(4_000) },
  );
}
