// The simplest live HLS recorder, as the yardstick for a recorder's cost: reads the master once,
// then polls each media playlist every half target duration, GETs each segment it has not seen
// (and the init segment once) and writes it to a file of the same name. No retries, no checks,
// no chunklist. Run as its own process so its CPU is its own:
//   node test/support/simple-hls-copy.ts <masterUrl> <outDir>
// Stops on SIGTERM and prints one JSON line: { segments, bytes, errors }.
// Node builtins only, erasable TypeScript: plain `node` runs it.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const [masterUrl, outDir] = process.argv.slice(2);
if (masterUrl === undefined || outDir === undefined) {
  console.error('usage: simple-hls-copy.ts <masterUrl> <outDir>');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true });
const totals = { segments: 0, bytes: 0, errors: 0 };
let stopping = false;

function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode} ${url}`)),
        );
      })
      .on('error', reject);
  });
}

function copyTo(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`${res.statusCode} ${url}`));
          return;
        }
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        pipeline(res, createWriteStream(path)).then(() => resolve(bytes), reject);
      })
      .on('error', reject);
  });
}

const fileName = (uri: string): string => uri.split('?')[0]!.split('/').pop()!;
const uriLines = (text: string): string[] =>
  text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

async function followRendition(playlistUrl: string): Promise<void> {
  const seen = new Set<string>();
  let first = true;
  let mapCopied = false;
  while (!stopping) {
    const started = Date.now();
    let waitMs = 1000;
    try {
      const text = await getText(playlistUrl);
      const target = Number(/^#EXT-X-TARGETDURATION:(\d+)/m.exec(text)?.[1] ?? 2);
      waitMs = (target * 1000) / 2;
      const map = /^#EXT-X-MAP:.*URI="([^"]+)"/m.exec(text)?.[1];
      if (map !== undefined && !mapCopied) {
        totals.bytes += await copyTo(new URL(map, playlistUrl).href, join(outDir!, fileName(map)));
        mapCopied = true;
      }
      const uris = uriLines(text);
      // Starts at the live edge: the newest segment listed at the first poll.
      if (first) for (const uri of uris.slice(0, -1)) seen.add(uri);
      first = false;
      for (const uri of uris) {
        if (seen.has(uri) || stopping) continue;
        seen.add(uri);
        totals.bytes += await copyTo(new URL(uri, playlistUrl).href, join(outDir!, fileName(uri)));
        totals.segments++;
      }
    } catch {
      totals.errors++;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, waitMs - (Date.now() - started))));
  }
}

await mkdir(outDir, { recursive: true });
const master = await getText(masterUrl);
const mediaUris = [
  ...uriLines(master),
  ...[...master.matchAll(/^#EXT-X-MEDIA:.*URI="([^"]+)"/gm)].map((m) => m[1]!),
];
process.once('SIGTERM', () => (stopping = true));
await Promise.all(mediaUris.map((uri) => followRendition(new URL(uri, masterUrl).href)));
agent.destroy();
console.log(JSON.stringify(totals));
