import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { UnknownAppError, UnknownVhostError } from './errors.js';
import { originBaseUrl } from './origins.js';

let tmp: string;
let originsFile: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'hlsdump-config-'));
  originsFile = join(tmp, 'origins.json');
  await writeFile(
    originsFile,
    JSON.stringify({
      vhosts: {
        default: { apps: { app: { origin: 'http://ome:3333/{app}/{outputStreamName}' } } },
      },
    }),
  );
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const env = (overrides: Record<string, string | undefined> = {}) => ({
  REDIS_URL: 'redis://redis:6379',
  ACCESS_TOKEN: 'user:pass',
  OUTPUT_ROOTS: '/data/a,/data/b:/data/c',
  HLSDUMP_ORIGINS: originsFile,
  ...overrides,
});

describe('loadConfig', () => {
  it('parses, coerces and defaults', () => {
    const config = loadConfig(env());
    expect(config).toMatchObject({
      port: 8081,
      host: '0.0.0.0',
      outputRoots: ['/data/a', '/data/b', '/data/c'],
      startTimeoutMs: 10_000,
      stopTimeoutMs: 10_000,
      queueName: 'hlsdump-dumps',
      redisPrefix: 'hlsdump',
    });
    expect(loadConfig(env({ PORT: '9000', START_TIMEOUT_MS: '2500' }))).toMatchObject({
      port: 9000,
      startTimeoutMs: 2500,
    });
  });

  it.each([
    ['REDIS_URL', { REDIS_URL: undefined }],
    ['ACCESS_TOKEN', { ACCESS_TOKEN: '' }],
    ['PORT', { PORT: 'eighty' }],
    ['OUTPUT_ROOTS', { OUTPUT_ROOTS: 'relative/dir' }],
    ['START_TIMEOUT_MS', { START_TIMEOUT_MS: '-1' }],
    ['QUEUE_NAME', { QUEUE_NAME: 'a:b' }],
    ['HLSDUMP_ORIGINS', { HLSDUMP_ORIGINS: '/does/not/exist.json' }],
  ])('names %s when it is bad', (variable, overrides) => {
    expect(() => loadConfig(env(overrides))).toThrow(ConfigError);
    expect(() => loadConfig(env(overrides))).toThrow(new RegExp(`\\b${variable}\\b`));
  });

  it('rejects an origins file whose template is not an http URL, naming HLSDUMP_ORIGINS', async () => {
    const bad = join(tmp, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({ vhosts: { v: { apps: { a: { origin: 'ftp://x/{app}' } } } } }),
    );
    expect(() => loadConfig(env({ HLSDUMP_ORIGINS: bad }))).toThrow(
      /HLSDUMP_ORIGINS.*http\(s\) URL template/s,
    );
  });
});

describe('origins', () => {
  it('expands the template, URL-encoded, with a trailing slash', () => {
    const { origins } = loadConfig(env());
    const app = origins.app('default', 'app');
    expect(app.defaultPlaylist).toBe('llhls.m3u8');
    expect(
      originBaseUrl(app, { vhost: 'default', app: 'app', stream: 's', outputStreamName: 'a b/c' }),
    ).toBe('http://ome:3333/app/a%20b%2Fc/');
    expect(() => origins.app('nope', 'app')).toThrow(UnknownVhostError);
    expect(() => origins.app('default', 'nope')).toThrow(UnknownAppError);
    expect(() => origins.app('default', 'toString')).toThrow(UnknownAppError);
  });
});

describe('CALLBACK_ALLOWED_HOSTS', () => {
  it('is empty unless set: every callbackUrl refused', () => {
    expect(loadConfig(env()).callbackAllowedHosts).toEqual([]);
  });

  it('takes host and host:port, trimmed and lower-cased', () => {
    expect(
      loadConfig(env({ CALLBACK_ALLOWED_HOSTS: ' Hooks.Example.com , 10.0.0.5:8080,[::1]:9000' }))
        .callbackAllowedHosts,
    ).toEqual(['hooks.example.com', '10.0.0.5:8080', '[::1]:9000']);
  });

  it('refuses a URL or a path where a host belongs, naming the variable', () => {
    expect(() =>
      loadConfig(env({ CALLBACK_ALLOWED_HOSTS: 'https://hooks.example.com/x' })),
    ).toThrow(/CALLBACK_ALLOWED_HOSTS/);
  });
});
