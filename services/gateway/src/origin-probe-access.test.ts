import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeStream,
  makeTestCertificates,
  serveFileOrigin,
  type FileOrigin,
  type MadeStream,
  type TestCertificates,
} from '@hlsdump/test-origin';
import { OriginProbeError } from './errors.js';
import { httpOriginProbe } from './origin-probe.js';

describe('the start probe reaches origins the way the dump will', () => {
  let stream: MadeStream;
  let certificates: TestCertificates;
  let https: FileOrigin;
  let guarded: FileOrigin;
  const header = { name: 'X-Origin-Auth', value: 'let-me-in' };
  beforeAll(async () => {
    stream = await makeStream('plain-ts');
    certificates = await makeTestCertificates();
    https = await serveFileOrigin(stream.dir, { tls: certificates });
    guarded = await serveFileOrigin(stream.dir, { requiredHeader: header });
  });
  afterAll(async () => {
    await https?.close();
    await guarded?.close();
    await certificates?.remove();
    await stream?.remove();
  });
  const probe = httpOriginProbe(5_000);

  it('trusts an HTTPS origin through the app’s CA file, and not without it', async () => {
    const url = `${https.baseUrl}master.m3u8`;
    await expect(probe(url, 'default/app/s', { caFile: certificates.caFile })).resolves.toBe(
      undefined,
    );
    await expect(probe(url, 'default/app/s')).rejects.toBeInstanceOf(OriginProbeError);
  });

  it('sends the app’s headers', async () => {
    const url = `${guarded.baseUrl}master.m3u8`;
    await expect(
      probe(url, 'default/app/s', { headers: { [header.name]: header.value } }),
    ).resolves.toBe(undefined);
    await expect(probe(url, 'default/app/s')).rejects.toThrow(/401/);
  });
});
