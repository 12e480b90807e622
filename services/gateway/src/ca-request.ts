import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';

/**
 * The status of a GET to an HTTPS origin whose certificate chains to the app's own CA (fetch
 * cannot be given one). The body is thrown away. Rejects on a network or TLS failure.
 */
export function statusWithCa(
  url: string,
  caFile: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<number> {
  const ca = [...rootCertificates, readFileSync(caFile, 'utf8')];
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca, headers, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () =>
      req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })),
    );
    req.once('error', reject);
    req.end();
  });
}
