import { describe, expect, it } from 'vitest';
import { Chunklist, renderFinal } from './chunklist.js';
import { readChunklistEntries } from './chunklist-reader.js';
import type { ChunklistEntry } from './dump-types.js';

/** The chunklist these entries give, in its final form. */
function finalForm(header: ConstructorParameters<typeof Chunklist>[0], entries: ChunklistEntry[]) {
  const list = new Chunklist(header);
  const segments = entries.map((entry) => list.add(entry)).join('');
  return renderFinal(list.head(), segments);
}

describe('readChunklistEntries', () => {
  it('reads back keys, kept tags, gaps and the discontinuity sequence, so a resumed chunklist is the same', () => {
    const entries: ChunklistEntry[] = [
      {
        file: 'a.ts',
        duration: 2,
        discontinuity: false,
        keys: ['#EXT-X-KEY:METHOD=AES-128,URI="key0.key",IV=0x0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a'],
        discontinuitySequence: 5,
        programDateTime: '2026-12-01T10:00:00.000Z',
      },
      {
        file: 'b.ts',
        duration: 2,
        discontinuity: false,
        keys: ['#EXT-X-KEY:METHOD=AES-128,URI="key1.key",IV=0x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'],
        tags: [
          '#EXT-X-CUE-OUT:4.0',
          '#EXT-X-DATERANGE:ID="ad",START-DATE="2026-12-01T10:00:02.000Z"',
        ],
        discontinuitySequence: 5,
        programDateTime: '2026-12-01T10:00:02.000Z',
      },
      {
        file: 'gap.ts',
        duration: 2,
        discontinuity: false,
        keys: ['#EXT-X-KEY:METHOD=AES-128,URI="key1.key",IV=0x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'],
        gap: true,
        discontinuitySequence: 5,
        programDateTime: '2026-12-01T10:00:04.000Z',
      },
    ];
    const header = { version: 3, targetDuration: 2, independentSegments: false };
    const written = finalForm(header, entries);
    const read = readChunklistEntries(written, '/dumps/x/stream.m3u8');
    expect(read).toEqual(entries);
    expect(finalForm(header, read)).toBe(written);
  });
});
