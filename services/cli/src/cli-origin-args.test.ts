import { describe, expect, it } from 'vitest';
import { UsageError, parseCliArgs } from './cli-args.js';

const BASE = ['dump', 'https://cdn.example/app/stream/master.m3u8', '--out', '/tmp/out'];

describe('parseCliArgs: how to reach the origin', () => {
  it('takes request headers and a CA file', () => {
    const { request } = parseCliArgs([
      ...BASE,
      '--header',
      'Authorization: Bearer abc',
      '--header',
      'X-Edge:a, b',
      '--ca-file',
      '/etc/ssl/origin-ca.pem',
    ]);
    expect(request.origin).toEqual({
      headers: { Authorization: 'Bearer abc', 'X-Edge': 'a, b' },
      caFile: '/etc/ssl/origin-ca.pem',
    });
  });

  it('has none without them', () => {
    expect(parseCliArgs(BASE).request.origin).toBeUndefined();
  });

  it('refuses a header that is not Name: value', () => {
    expect(() => parseCliArgs([...BASE, '--header', 'no colon here'])).toThrow(UsageError);
    expect(() => parseCliArgs([...BASE, '--header', 'Bad Name: x'])).toThrow(/'Name: value'/);
  });
});
