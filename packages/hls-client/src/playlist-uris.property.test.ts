import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveUri } from './m3u8-text.js';
import { playlistUriResolver } from './playlist-uris.js';

const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 400);

const base = fc.oneof(
  fc.constantFrom(
    'http://origin.test/app/stream/chunklist.m3u8',
    'http://origin.test/app/stream/chunklist.m3u8?token=a/b#frag',
    'https://user:pw@Origin.Test:8443/a/./b/../c/llhls.m3u8',
    'http://origin.test',
    'http://origin.test/dir/',
    'http://origin.test/a b/ü/list.m3u8',
    'file:///tmp/out/chunklist_0.m3u8',
    'data:text/plain,abc',
    'foo://host/a/b.m3u8',
    'not a url',
  ),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
);
const uri = fc.oneof(
  fc.constantFrom('.', '..', '...', 'seg.ts', 'seg_0_1_video_llhls.m4s', 'a:b', '%2e', 'x y', ''),
  fc.stringMatching(/^[A-Za-z0-9_\-.~]{1,12}$/),
  fc.string({ maxLength: 20 }),
  fc.webUrl(),
);

function outcome(resolve: () => string): string {
  try {
    return resolve();
  } catch (error) {
    return `throws ${(error as Error).name}: ${(error as Error).message}`;
  }
}

describe("a playlist's URIs resolved against its URL", () => {
  it('are what the URL parser makes of each, or the same error', () => {
    fc.assert(
      fc.property(base, fc.array(uri, { minLength: 1, maxLength: 5 }), (b, uris) => {
        const resolve = playlistUriResolver(b);
        for (const u of uris)
          expect(outcome(() => resolve(u))).toBe(outcome(() => resolveUri(u, b)));
      }),
      { numRuns: RUNS },
    );
  });
});
