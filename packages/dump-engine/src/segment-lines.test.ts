import { describe, expect, it } from 'vitest';
import { Chunklist, renderFinal } from './chunklist.js';
import type { ChunklistEntry } from './dump-types.js';
import { segmentLines } from './segment-lines.js';

const KEY_1 = '#EXT-X-KEY:METHOD=AES-128,URI="key1.key",IV=0x01';
const KEY_2 = '#EXT-X-KEY:METHOD=AES-128,URI="key2.key",IV=0x02';

function entry(file: string, extra: Partial<ChunklistEntry> = {}): ChunklistEntry {
  return { file, duration: 2, discontinuity: false, ...extra };
}

describe('segmentLines', () => {
  it('writes a key where it starts and where it changes, and METHOD=NONE where segments turn clear', () => {
    const entries = [
      entry('a.ts', { keys: [KEY_1] }),
      entry('b.ts', { keys: [KEY_1] }),
      entry('c.ts', { keys: [KEY_2] }),
      entry('d.ts'),
    ];
    const text = entries.map((e, i) => segmentLines(e, entries[i - 1])).join('');
    expect(text).toBe(
      `${KEY_1}\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n${KEY_2}\n#EXTINF:2,\nc.ts\n` +
        '#EXT-X-KEY:METHOD=NONE\n#EXTINF:2,\nd.ts\n',
    );
  });

  it('repeats the key and the map after a discontinuity, so each run stands alone', () => {
    const first = entry('a.m4s', { keys: [KEY_1], map: 'init.mp4' });
    const next = entry('b.m4s', { keys: [KEY_1], map: 'init.mp4', discontinuity: true });
    expect(segmentLines(next, first)).toBe(
      `#EXT-X-DISCONTINUITY\n${KEY_1}\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2,\nb.m4s\n`,
    );
  });

  it('keeps kept tags before the date, and marks a gap', () => {
    const text = segmentLines(
      entry('gap.m4s', {
        tags: [
          '#EXT-X-DATERANGE:ID="ad",START-DATE="2026-12-01T10:00:00Z",SCTE35-OUT=0xFC',
          '#EXT-X-CUE-OUT:30',
        ],
        programDateTime: '2026-12-01T10:00:00.000Z',
        gap: true,
      }),
      undefined,
    );
    expect(text).toBe(
      '#EXT-X-DATERANGE:ID="ad",START-DATE="2026-12-01T10:00:00Z",SCTE35-OUT=0xFC\n#EXT-X-CUE-OUT:30\n' +
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-01T10:00:00.000Z\n#EXT-X-GAP\n#EXTINF:2,\ngap.m4s\n',
    );
  });
});

describe('Chunklist header', () => {
  it('carries the first segment’s discontinuity sequence and I-FRAMES-ONLY', () => {
    const list = new Chunklist({
      version: 4,
      targetDuration: 1,
      independentSegments: false,
      iFramesOnly: true,
    });
    const segments =
      list.add(entry('a.ts', { discontinuitySequence: 5 })) +
      list.add(entry('b.ts', { discontinuitySequence: 6, discontinuity: true }));
    expect(renderFinal(list.head(), segments)).toBe(
      '#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n' +
        '#EXT-X-DISCONTINUITY-SEQUENCE:5\n#EXT-X-I-FRAMES-ONLY\n' +
        '#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n#EXT-X-ENDLIST\n',
    );
  });
});
