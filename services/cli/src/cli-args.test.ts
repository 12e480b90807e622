import { describe, expect, it } from 'vitest';
import { UsageError, parseCliArgs } from './cli-args.js';

describe('parseCliArgs', () => {
  it('splits the master URL into the origin base and the playlist names', () => {
    const { request, durationSeconds } = parseCliArgs([
      'dump',
      'http://127.0.0.1:9000/app/stream/llhls.m3u8',
      '--out',
      '/tmp/out',
      '--playlist',
      'abr.m3u8',
      '--info-file',
      '/tmp/out/info.xml',
      '--user-data',
      'k=v',
      '--duration',
      '30',
    ]);
    expect(request).toEqual({
      originBaseUrl: 'http://127.0.0.1:9000/app/stream/',
      playlists: ['llhls.m3u8', 'abr.m3u8'],
      outputPath: '/tmp/out',
      infoFile: '/tmp/out/info.xml',
      userData: 'k=v',
      streamName: '/app/stream',
    });
    expect(durationSeconds).toBe(30);
  });

  it.each([
    [[], 'No command given'],
    [['record', 'http://x/a.m3u8', '--out', 'o'], 'Unknown command: record'],
    [['dump', '--out', 'o'], 'dump needs the master playlist URL'],
    [['dump', 'not a url', '--out', 'o'], 'Not a URL: not a url'],
    [['dump', 'ftp://x/a.m3u8', '--out', 'o'], 'Only http and https origins are supported'],
    [['dump', 'http://x/a.m3u8'], '--out DIR is required'],
    [['dump', 'http://x/', '--out', 'o'], 'The URL names no playlist file'],
    [
      ['dump', 'http://x/a.m3u8', '--out', 'o', '--playlist', '../b.m3u8'],
      '--playlist takes a plain file name',
    ],
    [
      ['dump', 'http://x/a.m3u8', '--out', 'o', '--duration=-1'],
      '--duration takes a positive number',
    ],
    [
      ['dump', 'http://x/a.m3u8', '--out', 'o', '--duration', '-1'],
      "Option '--duration' argument is ambiguous",
    ],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});
