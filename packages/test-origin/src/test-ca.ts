// A certificate authority made for one test run with the openssl command, and a server
// certificate it signed for 127.0.0.1: an HTTPS origin that only a client given the CA trusts.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  /** The CA's certificate (PEM), what a client must be told to trust. */
  caCert: string;
  /** The CA certificate's path on disk, for an origins file's `caFile`. */
  caFile: string;
  /** The server's key and certificate (PEM) for 127.0.0.1. */
  key: string;
  cert: string;
  remove(): Promise<void>;
}

export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'hlsdump-test-ca-'));
  const at = (name: string): string => join(dir, name);
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  await openssl([
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'],
    ...['-keyout', at('ca.key'), '-out', at('ca.pem'), '-subj', '/CN=hlsdump test CA'],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'],
  ]);
  await openssl([
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('server.key')],
    ...['-out', at('server.csr'), '-subj', '/CN=127.0.0.1'],
  ]);
  await writeFile(at('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await openssl([
    ...['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key')],
    ...['-CAcreateserial', '-days', '2', '-out', at('server.pem'), '-extfile', at('server.ext')],
  ]);
  return {
    caCert: await readFile(at('ca.pem'), 'utf8'),
    caFile: at('ca.pem'),
    key: await readFile(at('server.key'), 'utf8'),
    cert: await readFile(at('server.pem'), 'utf8'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
