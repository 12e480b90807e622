import { readFileSync } from 'node:fs';
import { OriginClient, type OriginClientOptions } from '@hlsdump/hls-client';
import { DumpError } from './dump-error.js';
import type { DumpRequest } from './dump-types.js';

/**
 * The origin client a dump needs: the app's request headers and the CA of its HTTPS origin, from
 * the origins file. An unreadable CA file is the dump's error, named, not a TLS failure later.
 */
export function originClientFor(
  request: Pick<DumpRequest, 'origin'>,
  options: OriginClientOptions = {},
): OriginClient {
  const access = request.origin;
  const settings: OriginClientOptions = { ...options };
  if (access?.headers !== undefined) settings.headers = { ...options.headers, ...access.headers };
  if (access?.caFile !== undefined) {
    try {
      settings.ca = readFileSync(access.caFile, 'utf8');
    } catch (error) {
      throw new DumpError(
        'ORIGIN_CA_UNREADABLE',
        `The origin's CA file ${access.caFile} cannot be read: ${(error as Error).message}`,
      );
    }
  }
  return new OriginClient(settings);
}
