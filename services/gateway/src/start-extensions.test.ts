import { describe, expect, it } from 'vitest';
import { InvalidBodyError } from './errors.js';
import { checkCallbackHost, parseStartExtensions } from './start-extensions.js';

describe('start body extensions', () => {
  it('takes the three fields, null as absent', () => {
    expect(
      parseStartExtensions({
        maxDurationSeconds: 3600,
        from: '2026-12-01T04:00:00.5+01:00',
        callbackUrl: 'https://hooks.example.com/dumps',
      }),
    ).toEqual({
      maxDurationSeconds: 3600,
      from: '2026-12-01T04:00:00.5+01:00',
      callbackUrl: 'https://hooks.example.com/dumps',
    });
    expect(parseStartExtensions({ maxDurationSeconds: null, from: 'window' })).toEqual({
      from: 'window',
    });
  });

  it('refuses a time without a zone or seconds: its meaning would depend on the server', () => {
    for (const from of ['2026-12-01T04:00:00', '2026-12-01T04:00Z', '2026-12-01', 'now'])
      expect(() => parseStartExtensions({ from }), from).toThrow(InvalidBodyError);
  });

  it('callbackUrl: only listed hosts; a host without a port means the default port; nothing listed refuses all', () => {
    const allowed = ['hooks.example.com', '10.0.0.5:8080'];
    expect(() => checkCallbackHost('https://hooks.example.com/x', allowed)).not.toThrow();
    expect(() => checkCallbackHost('http://10.0.0.5:8080/x', allowed)).not.toThrow();
    expect(() => checkCallbackHost('http://HOOKS.example.com:80/x', allowed)).not.toThrow();
    expect(() => checkCallbackHost('https://hooks.example.com:6379/x', allowed)).toThrow(
      'callbackUrl host hooks.example.com:6379 is not in CALLBACK_ALLOWED_HOSTS',
    );
    expect(() => checkCallbackHost('http://10.0.0.5/x', allowed)).toThrow(InvalidBodyError);
    expect(() => checkCallbackHost('https://hooks.example.com/x', [])).toThrow(
      'callbackUrl is not enabled here (CALLBACK_ALLOWED_HOSTS is empty)',
    );
  });
});
