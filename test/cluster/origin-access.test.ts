import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  makeStream,
  makeTestCertificates,
  serveFileOrigin,
  type FileOrigin,
  type MadeStream,
  type TestCertificates,
} from '@hlsdump/test-origin';
import { startCluster, type Cluster } from '../support/cluster.js';
import { expectCopiedBytes } from '../support/copied-bytes.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The origins file's per-app access settings, through the real processes: the gateway reads them,
 * the dump record carries them, the worker's origin client uses them. And what the dump could not
 * honour reaches the status endpoint and the worker's log.
 */
describe('origins that need more than a URL, through the gateway and a worker', () => {
  const header = { name: 'X-Origin-Auth', value: `cluster-${process.pid}` };
  let drm: MadeStream;
  let plain: MadeStream;
  let certificates: TestCertificates;
  let guarded: FileOrigin;
  let https: FileOrigin;
  let cluster: Cluster;

  beforeAll(async () => {
    [drm, plain, certificates] = await Promise.all([
      makeStream('sample-aes-drm'),
      makeStream('plain-ts'),
      makeTestCertificates(),
    ]);
    guarded = await serveFileOrigin(drm.dir, { requiredHeader: header });
    https = await serveFileOrigin(plain.dir, { tls: certificates });
    const app = (origin: string, extra: object) => ({
      origin,
      defaultPlaylist: 'master.m3u8',
      ...extra,
    });
    cluster = await startCluster({
      workers: 1,
      origins: {
        vhosts: {
          default: {
            apps: {
              guarded: app(guarded.baseUrl, { headers: { [header.name]: header.value } }),
              bare: app(guarded.baseUrl, {}),
              secure: app(https.baseUrl, { caFile: certificates.caFile }),
            },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await guarded?.close();
    await https?.close();
    await certificates?.remove();
    await drm?.remove();
    await plain?.remove();
  });

  async function completed(app: string, stream: string, id: string) {
    return waitFor(
      `${app}/${stream} to complete`,
      async () => {
        const { dump } = await cluster.status('default', app, stream, id);
        return dump?.status === 'Completed' || dump?.status === 'Error' ? dump : undefined;
      },
      { timeoutMs: 30_000, details: () => cluster.logs(4000) },
    );
  }

  it('sends the app’s header to its origin, and tells in the status what it kept as is', async () => {
    onTestFailed(() => console.error(cluster.logs(20_000)));
    const started = await cluster.startDump({ app: 'guarded', stream: 'drm', id: 'd1' });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const dump = await completed('guarded', 'drm', 'd1');
    expect(dump.status).toBe('Completed');
    expect(guarded.requests.filter((r) => r.status !== 200)).toEqual([]);
    await expectCopiedBytes(drm.dir, started.outputPath, 'master.m3u8', guarded.baseUrl);
    expect(dump.notices).toEqual([
      expect.stringMatching(/^stream\.m3u8: EXT-X-KEY METHOD=SAMPLE-AES KEYFORMAT=com\.apple/),
      expect.stringMatching(/^stream\.m3u8: EXT-X-KEY METHOD=SAMPLE-AES KEYFORMAT=urn:uuid:/),
      expect.stringMatching(/^stream\.m3u8: EXT-X-KEY METHOD=SAMPLE-AES KEYFORMAT=identity/),
    ]);
    expect(cluster.workers[0]!.output()).toMatch(/not honoured: METHOD=SAMPLE-AES/);
  });

  it('an app without the header is refused at start by the same origin', async () => {
    const before = guarded.requests.length;
    const started = await cluster.startDump({ app: 'bare', stream: 'drm', id: 'd2' });
    expect(started.status).not.toBe(200);
    expect(guarded.requests.slice(before).map((r) => r.status)).toContain(401);
  });

  it('trusts an HTTPS origin through the app’s CA file', async () => {
    const started = await cluster.startDump({ app: 'secure', stream: 'plain', id: 'd3' });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const dump = await completed('secure', 'plain', 'd3');
    expect(dump.status, JSON.stringify(dump)).toBe('Completed');
    await expectCopiedBytes(plain.dir, started.outputPath);
  });
});
