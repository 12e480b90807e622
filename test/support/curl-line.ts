import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CURL_AVAILABLE = (process.env.PATH ?? '')
  .split(delimiter)
  .some((dir) => dir && existsSync(join(dir, 'curl')));

export interface CurlResult {
  /** The JSON body the API answered. */
  body: { statusCode?: number; message?: string; response?: unknown } & Record<string, unknown>;
  via: 'curl' | 'fetch';
}

/**
 * Runs a printed, ready-to-paste `curl ...` line: through `sh -c` with the real curl when the
 * machine has one (exactly what an operator pasting it gets), else the same request via fetch.
 */
export async function runCurlLine(line: string): Promise<CurlResult> {
  if (!line.startsWith('curl ')) throw new Error(`not a curl line: ${line}`);
  if (CURL_AVAILABLE) {
    const { stdout } = await run('sh', ['-c', line]);
    return { body: JSON.parse(stdout) as CurlResult['body'], via: 'curl' };
  }
  const request = parseCurlLine(line);
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.data !== undefined && { body: request.data }),
  });
  return { body: JSON.parse(await response.text()) as CurlResult['body'], via: 'fetch' };
}

/** The request a curl line makes: -X, -H, -d and the URL; `-sS` is ignored. */
export function parseCurlLine(line: string): {
  method: string;
  url: string;
  headers: Record<string, string>;
  data?: string;
} {
  const words = shellWords(line).slice(1);
  const headers: Record<string, string> = {};
  let method: string | undefined;
  let url: string | undefined;
  let data: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '-X') method = words[++i];
    else if (word === '-H') {
      const header = words[++i] ?? '';
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (word === '-d') data = words[++i];
    else if (word.startsWith('-')) continue;
    else url = word;
  }
  if (!url) throw new Error(`no URL in ${line}`);
  return {
    method: method ?? (data === undefined ? 'GET' : 'POST'),
    url,
    headers,
    ...(data !== undefined && { data }),
  };
}

/** Splits a POSIX shell line with single quotes (the only quoting the printed lines use). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let current: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${line}`);
      current = (current ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (char === '\\' && i + 1 < line.length) {
      current = (current ?? '') + line[++i];
    } else if (char === ' ') {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else {
      current = (current ?? '') + char;
    }
  }
  if (current !== undefined) words.push(current);
  return words;
}
