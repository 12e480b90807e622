import { expect } from 'vitest';
import { readChunklist } from './dump-kit.ts';
import { ffprobe } from './ffprobe.ts';
import { expectConsistentItems, readInfoFile } from './info-file-check.ts';

/**
 * A finished copy of a real encoder's stream plays: its chunklist lists at least `minSegments`
 * with no discontinuity, ffprobe finds video and audio through `playlist` over the duration the
 * chunklist lists (within one target duration), and the infoFile is Completed and consistent.
 */
export async function expectPlayableCopy(copy: {
  chunklist: string;
  playlist: string;
  infoFile: string;
  minSegments: number;
}): Promise<void> {
  const { details } = await readChunklist(copy.chunklist);
  expect(details.segments.length).toBeGreaterThanOrEqual(copy.minSegments);
  expect(details.segments.some((s) => s.discontinuity)).toBe(false);
  const probe = await ffprobe(copy.playlist);
  expect(probe.streams.map((s) => s.codec_type)).toEqual(
    expect.arrayContaining(['video', 'audio']),
  );
  const listed = details.segments.reduce((sum, s) => sum + s.duration, 0);
  expect(Math.abs(probe.durationSeconds - listed)).toBeLessThanOrEqual(details.targetDuration);
  const info = await readInfoFile(copy.infoFile);
  expect(info.status).toBe('Completed');
  expectConsistentItems(info);
}
