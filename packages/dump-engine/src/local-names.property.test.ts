import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalNames, sanitizeFileName } from './local-names.js';

/**
 * Whatever an origin names its files, the local name is a plain file name inside outputPath:
 * only [A-Za-z0-9._-], never starting with a dot (so never `.` or `..`), at most 150 characters,
 * the same for the same input, and distinct for distinct URLs within a dump.
 */

const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 1000);
const PLAIN_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc
    .array(
      fc.constantFrom(
        '..',
        '.',
        '/',
        '\\',
        '%2e',
        '%2f',
        '%5c',
        '%',
        '%zz',
        '?',
        '#',
        'a',
        'seg.ts',
        '\u0000',
        '\u202e',
        'é',
      ),
      {
        maxLength: 20,
      },
    )
    .map((parts) => parts.join('')),
  fc.string({ maxLength: 5 }).map((s) => s.repeat(200)),
);

describe('the file-name sanitizer, over hostile origin names', () => {
  it('always gives a plain, bounded, deterministic file name', () => {
    fc.assert(
      fc.property(hostile, (uri) => {
        const started = performance.now();
        const name = sanitizeFileName(uri);
        expect(performance.now() - started).toBeLessThan(100);
        expect(name).toMatch(PLAIN_NAME);
        expect(name.length).toBeLessThanOrEqual(150);
        expect(sanitizeFileName(uri)).toBe(name);
      }),
      { numRuns: RUNS },
    );
  });

  it('gives distinct URLs distinct names within a dump, and the same URL the same stable name', () => {
    fc.assert(
      fc.property(fc.uniqueArray(hostile, { maxLength: 40 }), (uris) => {
        const names = new LocalNames();
        const given = uris.map((uri, i) =>
          i % 2 === 0
            ? names.nameFor(`http://o.test/${uri}`, 'r0')
            : names.stableNameFor(`http://o.test/${uri}`, 'r1'),
        );
        expect(new Set(given).size).toBe(uris.length);
        for (const name of given) {
          expect(name).toMatch(PLAIN_NAME);
          expect(name.length).toBeLessThanOrEqual(150);
        }
        uris.forEach((uri, i) => {
          if (i % 2 === 1) expect(names.stableNameFor(`http://o.test/${uri}`, 'r1')).toBe(given[i]);
        });
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it('keeps clashing names (the same base name in other folders) distinct and bounded', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 2, max: 6 }), (base, copies) => {
        const names = new LocalNames();
        const given = Array.from({ length: copies }, (_, i) =>
          names.nameFor(`http://o.test/v${i}/${encodeURIComponent(base)}`, `r${i}`),
        );
        expect(new Set(given).size).toBe(copies);
        for (const name of given) {
          expect(name).toMatch(PLAIN_NAME);
          expect(name.length).toBeLessThanOrEqual(150);
        }
      }),
      { numRuns: RUNS / 4 },
    );
  });
});
