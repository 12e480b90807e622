import { describe, expect, it } from 'vitest';
import { Chunklist, renderFinal } from './chunklist.js';

/** What a chunklist finished with these entries holds. */
function finalText(list: Chunklist, segments: string): string {
  return renderFinal(list.head(), segments);
}

describe('Chunklist', () => {
  it('renders a VOD playlist with ENDLIST even before the first segment', () => {
    const list = new Chunklist({ version: 7, targetDuration: 4, independentSegments: true });
    expect(finalText(list, '')).toBe(
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-ENDLIST\n',
    );
  });

  it('writes MAP, PDT, DISCONTINUITY and EXTINF per segment, in order', () => {
    const list = new Chunklist({ version: 6, targetDuration: 4, independentSegments: false });
    let lines = list.add({
      msn: 10,
      file: 's10.m4s',
      duration: 4.0,
      discontinuity: false,
      map: 'init.mp4',
      programDateTime: '2026-01-01T00:00:00.000Z',
    });
    lines += list.add({
      msn: 11,
      file: 's11.m4s',
      duration: 3.966667,
      discontinuity: false,
      map: 'init.mp4',
    });
    lines += list.add({
      msn: 13,
      file: 's13.m4s',
      duration: 4.5,
      discontinuity: true,
      map: 'init.mp4',
    });
    expect(finalText(list, lines)).toBe(
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
    let firstLines = first.add({ msn: 1, file: 'a.ts', duration: 2, discontinuity: false });
    // The entries a resumed dump reads back from the chunklist on disk.
    const resumed = new Chunklist({ targetDuration: 2, independentSegments: false }, [
      { file: 'a.ts', duration: 2, discontinuity: false },
    ]);
    const resumedLines = resumed.add({ msn: 2, file: 'b.ts', duration: 2, discontinuity: true });
    firstLines += first.add({ msn: 2, file: 'b.ts', duration: 2, discontinuity: true });
    expect(resumedLines).toBe('#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n');
    expect(firstLines.endsWith(resumedLines)).toBe(true);
    expect(resumed.head()).toBe(first.head());
  });
});
