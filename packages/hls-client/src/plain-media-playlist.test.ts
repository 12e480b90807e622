import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseMediaPlaylist } from './media-playlist.js';
import type { RenditionDetails } from './rendition-details.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const URL_OF = 'http://origin.test/app/stream/chunklist_0_video_llhls.m3u8';
const WINDOW = 200;

/** Reload `first` of a live window: each text different from every other one. */
function liveText(first: number): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-TARGETDURATION:4',
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    '#EXT-X-MAP:URI="init_0_video_llhls.m4s"',
  ];
  for (let msn = first; msn < first + WINDOW; msn++) {
    const date = new Date(Date.UTC(2026, 11, 1) + msn * 4000).toISOString();
    lines.push(
      `#EXT-X-PROGRAM-DATE-TIME:${date}`,
      '#EXTINF:4.000000,live',
      `seg_0_${msn}_video_llhls.m4s`,
    );
  }
  return lines.join('\n') + '\n';
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('a playlist followed reload after reload', () => {
  it('keeps no text but the last load’s, though its segments were read from many', () => {
    const textBytes = liveText(0).length;
    const before = heapAfterGc();
    let details: RenditionDetails | undefined;
    // Every segment of the last window was first read from a different load's text.
    for (let first = 0; first <= 2 * WINDOW; first++)
      details = parseMediaPlaylist(liveText(first), URL_OF, details);
    const kept = heapAfterGc() - before;
    expect(details!.segments[0]!.msn).toBe(2 * WINDOW);
    // Each of those texts kept alive would be WINDOW × textBytes (here ~4 MB); the segments
    // themselves and one text are a few hundred kB.
    expect(kept).toBeLessThan((WINDOW * textBytes) / 4);
  });
});
