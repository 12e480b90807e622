import { parseArgs } from 'node:util';
import { isAbsolute, resolve } from 'node:path';
import type { DumpRequest } from '@hlsdump/dump-engine';

export const USAGE = `Usage: hlsdump dump <master-url> --out DIR [--playlist NAME]... [--info-file PATH]
                    [--user-data TEXT] [--duration SECONDS] [--stream-name NAME]
                    [--header 'Name: value']... [--ca-file PEM]

Records a live HLS or LL-HLS stream to DIR until --duration has passed, Ctrl-C, or the
origin ends the stream. <master-url> is the stream's master (or media) playlist; each
--playlist NAME is another master playlist beside it to copy. --header is sent with every
request to the origin; --ca-file names the CA an HTTPS origin's certificate chains to. Exits 0 after a clean stop,
1 when the dump ended in Error, 2 on bad arguments.`;

export class UsageError extends Error {}

export interface CliCommand {
  request: DumpRequest;
  durationSeconds?: number;
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      playlist: { type: 'string', multiple: true },
      'info-file': { type: 'string' },
      'user-data': { type: 'string' },
      duration: { type: 'string' },
      'stream-name': { type: 'string' },
      header: { type: 'string', multiple: true },
      'ca-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export function parseCliArgs(argv: string[]): CliCommand {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  const [command, masterUrl, ...rest] = positionals;
  if (command !== 'dump')
    throw new UsageError(command ? `Unknown command: ${command}` : 'No command given');
  if (!masterUrl) throw new UsageError('dump needs the master playlist URL');
  if (rest.length > 0) throw new UsageError(`Unexpected arguments: ${rest.join(' ')}`);
  let url: URL;
  try {
    url = new URL(masterUrl);
  } catch {
    throw new UsageError(`Not a URL: ${masterUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Only http and https origins are supported: ${masterUrl}`);
  }
  if (!values.out) throw new UsageError('--out DIR is required');
  const masterName = url.pathname.split('/').pop() ?? '';
  if (!masterName) throw new UsageError(`The URL names no playlist file: ${masterUrl}`);
  for (const name of values.playlist ?? []) {
    if (!/^[^/\\]+$/.test(name) || name === '.' || name === '..') {
      throw new UsageError(`--playlist takes a plain file name beside the master: ${name}`);
    }
  }
  let durationSeconds: number | undefined;
  if (values.duration !== undefined) {
    durationSeconds = Number(values.duration);
    if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
      throw new UsageError(`--duration takes a positive number of seconds: ${values.duration}`);
    }
  }
  const base = new URL('.', url);
  const playlists = [masterName + url.search, ...(values.playlist ?? [])];
  const request: DumpRequest = {
    originBaseUrl: base.href,
    playlists: [...new Set(playlists)],
    outputPath: resolve(values.out),
    streamName: values['stream-name'] ?? base.pathname.replace(/\/$/, ''),
  };
  const infoFile = values['info-file'];
  if (infoFile !== undefined) {
    request.infoFile = isAbsolute(infoFile) ? infoFile : resolve(infoFile);
    if (values['user-data'] !== undefined) request.userData = values['user-data'];
  }
  const headers = originHeaders(values.header ?? []);
  const caFile = values['ca-file'];
  if (headers !== undefined || caFile !== undefined) {
    request.origin = {
      ...(headers && { headers }),
      ...(caFile !== undefined && { caFile: resolve(caFile) }),
    };
  }
  return durationSeconds === undefined ? { request } : { request, durationSeconds };
}

/** `--header 'Name: value'` options as a header record; undefined when none is given. */
function originHeaders(options: string[]): Record<string, string> | undefined {
  if (options.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const option of options) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(option);
    if (!match) throw new UsageError(`--header takes 'Name: value': ${option}`);
    headers[match[1]!] = match[2]!;
  }
  return headers;
}
