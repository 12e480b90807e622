import { describe, expect, it } from 'vitest';
import { Chunklist } from './chunklist.js';

describe('Chunklist', () => {
  it('renders a VOD playlist with ENDLIST even before the first segment', () => {
    const list = new Chunklist({ version: 7, targetDuration: 4, independentSegments: true });
    expect(list.render().toString()).toBe(
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-ENDLIST\n',
    );
  });

  it('writes MAP, PDT, DISCONTINUITY and EXTINF per segment, in order', () => {
    const list = new Chunklist({ version: 6, targetDuration: 4, independentSegments: false });
    list.add({
      msn: 10,
      file: 's10.m4s',
      duration: 4.0,
      discontinuity: false,
      map: 'init.mp4',
      programDateTime: '2026-01-01T00:00:00.000Z',
    });
    list.add({
      msn: 11,
      file: 's11.m4s',
      duration: 3.966667,
      discontinuity: false,
      map: 'init.mp4',
    });
    list.add({ msn: 13, file: 's13.m4s', duration: 4.5, discontinuity: true, map: 'init.mp4' });
    expect(list.render().toString()).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
        '#EXT-X-TARGETDURATION:5',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-MAP:URI="init.mp4"',
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z',
        '#EXTINF:4,',
        's10.m4s',
        '#EXTINF:3.966667,',
        's11.m4s',
        '#EXT-X-DISCONTINUITY',
        '#EXT-X-MAP:URI="init.mp4"',
        '#EXTINF:4.5,',
        's13.m4s',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
    expect(list.size).toBe(3);
  });

  it('continues from a checkpoint as if never interrupted', () => {
    const first = new Chunklist({ targetDuration: 2, independentSegments: false });
    first.add({ msn: 1, file: 'a.ts', duration: 2, discontinuity: false });
    // The entries a resumed dump reads back from the chunklist on disk.
    const resumed = new Chunklist({ targetDuration: 2, independentSegments: false }, [
      { file: 'a.ts', duration: 2, discontinuity: false },
    ]);
    resumed.add({ msn: 2, file: 'b.ts', duration: 2, discontinuity: true });
    first.add({ msn: 2, file: 'b.ts', duration: 2, discontinuity: true });
    expect(resumed.render().equals(first.render())).toBe(true);
  });
});

describe('Chunklist memory', () => {
  it('grows its body past the first buffer without losing or reordering a byte', () => {
    const list = new Chunklist({ targetDuration: 4, independentSegments: false });
    const expected: string[] = [];
    for (let i = 0; i < 2000; i++) {
      list.add({ file: `seg_${i}.m4s`, duration: 4, discontinuity: false });
      expected.push(`#EXTINF:4,\nseg_${i}.m4s`);
    }
    const text = list.render().toString();
    expect(text).toBe(
      `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n${expected.join('\n')}\n#EXT-X-ENDLIST\n`,
    );
  });
});
