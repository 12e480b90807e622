import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtElement, xmlElement } from './xml-text.js';

const names = fc.constantFrom('Seq', 'Time', 'File', 'Stream', 'UserData', 'Error');
/** Mostly the characters an Item holds, with every kind the builder escapes or rewrites mixed in. */
const itemLike = fc.string({
  unit: fc.constantFrom(
    ...'abcXYZ019_./:+ T'.split(''),
    '-',
    '&',
    '<',
    '>',
    '"',
    "'",
    '\t',
    '\n',
    '\r',
    '\u0000',
    '\u007f',
    'é',
    '\u{1F600}',
    '\uD800',
  ),
  maxLength: 40,
});

describe('xmlElement', () => {
  it('renders every text exactly as the builder does', () => {
    fc.assert(
      fc.property(
        names,
        fc.oneof(itemLike, fc.string({ unit: 'binary', maxLength: 40 })),
        (name, text) => {
          expect(xmlElement(name, text)).toBe(builtElement(name, text));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('takes the short way for an Item and still escapes what needs it', () => {
    expect(xmlElement('File', 'live/video_1080/seg_17-a.m4s')).toBe(
      '<File>live/video_1080/seg_17-a.m4s</File>',
    );
    expect(xmlElement('Time', '2026-12-04T07:00:00.000+0000')).toBe(
      '<Time>2026-12-04T07:00:00.000+0000</Time>',
    );
    expect(xmlElement('File', '')).toBe('<File></File>');
    expect(xmlElement('File', 'a--b&c')).toBe('<File>a-&#45;b&amp;c</File>');
    expect(xmlElement('Stream', "it's <x>")).toBe(builtElement('Stream', "it's <x>"));
    expect(xmlElement('Stream', "it's <x>")).not.toContain('<x>');
  });
});
