import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Origins } from './origins.js';

describe('origins file: per-app headers and CA file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hlsdump-origins-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function originsFile(app: Record<string, unknown>): Promise<string> {
    const path = join(dir, 'origins.json');
    await writeFile(path, JSON.stringify({ vhosts: { default: { apps: { app } } } }));
    return path;
  }

  it('reads headers and a CA file relative to the origins file', async () => {
    await writeFile(join(dir, 'ca.pem'), 'PEM');
    const path = await originsFile({
      origin: 'https://cdn.example/{app}/{outputStreamName}/',
      headers: { Authorization: 'Bearer x' },
      caFile: 'ca.pem',
    });
    const app = Origins.fromFile(path).app('default', 'app');
    expect(app.access).toEqual({
      headers: { Authorization: 'Bearer x' },
      caFile: join(dir, 'ca.pem'),
    });
  });

  it('an app without them has none', async () => {
    const path = await originsFile({ origin: 'http://ome:3333/{app}/{outputStreamName}/' });
    expect(Origins.fromFile(path).app('default', 'app').access).toEqual({});
  });

  it('refuses a CA file it cannot read, naming the app and the file', async () => {
    const path = await originsFile({ origin: 'https://cdn.example/{app}/', caFile: 'missing.pem' });
    expect(() => Origins.fromFile(path)).toThrow(
      /vhosts\.default\.apps\.app\.caFile: cannot read .*missing\.pem/,
    );
  });

  it('refuses headers that are not strings', async () => {
    const path = await originsFile({ origin: 'https://cdn.example/{app}/', headers: { 'X-N': 1 } });
    expect(() => Origins.fromFile(path)).toThrow();
  });
});
