// One process following live media playlists with blocking reloads (`_HLS_msn` = the next
// segment), one way of making the requests per process, its CPU read from outside
// (bench/live-copy-floor.ts, and the main phase's loop peers in the copy mode). Driven over IPC:
//
//   fork('live-follower.ts', ['--mode', MODE])   → { type: 'ready' }
//   { op: 'follow', urls, dir }                  → { op: 'following' } (the copy mode writes in dir)
//   { op: 'count' }                              → { op: 'count', reloads, failures }
// (bench/lib/follower-host.ts is the other end.)
//
// Modes, each adding one layer to the one before:
//   idle    nothing but the imports below (the process's own cost, subtracted from the others)
//   http    node:http with a keep-alive agent, the body read as text
//   undici  undici's request() through one Agent, the body read as text
//   client  the project's OriginClient.getText on shared OriginConnections, as a worker makes them
//   loader  the project's RenditionLoader (client, parse, reload rules), its updates consumed
// and, apart from the layers, the simplest live copy there is:
//   copy    node:http, each new segment of a reload (a line scan of the text) piped to a file of its own
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import {
  OriginClient,
  OriginConnections,
  RenditionLoader,
  withBlockingParams,
} from '@hlsdump/hls-client';
import { FOLLOW_MODES, type FollowMode } from './follow-modes.ts';

const { values } = parseArgs({ options: { mode: { type: 'string' } } });
const mode = values.mode as FollowMode;
if (!FOLLOW_MODES.includes(mode))
  throw new Error(`--mode must be one of ${FOLLOW_MODES.join(', ')}`);

let reloads = 0;
let failures = 0;
const stopping = new AbortController();

/** Fetches a playlist's text one way. */
type GetText = (url: string) => Promise<string>;

/** Keep-alive connections to the origin, as many at once as a worker's client keeps. */
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
/** How the origin's request log tells these requests apart from a worker's and ffmpeg's. */
const headers = { 'user-agent': 'simple-loop/1' };

const httpGetText: GetText = (url) =>
  new Promise((resolve, reject) => {
    const req = http.get(url, { agent: httpAgent, headers, signal: stopping.signal }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });

function undiciGetText(): GetText {
  const dispatcher = new Agent({ connections: 16, headersTimeout: 30_000 });
  return async (url) => {
    const res = await request(url, { dispatcher, signal: stopping.signal });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    return text;
  };
}

function clientGetText(): GetText {
  const client = new OriginClient({ connections: new OriginConnections() });
  return async (url) =>
    (await client.getText(url, { signal: stopping.signal, headersTimeoutMs: 30_000 })).text;
}

/** The bare loops: ask for the segment after the last one seen, read the answer, ask again. */
async function followBare(url: string, getText: GetText): Promise<void> {
  let next: number | undefined;
  for (;;) {
    try {
      if (next === undefined) {
        next = (segmentsOf(await getText(url), url).at(-1)?.[0] ?? -1) + 1;
        continue;
      }
      // A blocking server answers once the playlist holds segment `next` (RFC 8216bis 6.2.5.2).
      await getText(withBlockingParams(url, { msn: next }));
      next++;
      reloads++;
    } catch {
      if (!(await failed())) return;
    }
  }
}

/** Counts a failed request and waits before the next; false once the follower is stopping. */
async function failed(): Promise<boolean> {
  if (stopping.signal.aborted) return false;
  failures++;
  await new Promise((resolve) => setTimeout(resolve, 500));
  return true;
}

/** The complete segments a media playlist lists, as [msn, absolute URL]: the simplest scan. */
function segmentsOf(text: string, url: string): [number, string][] {
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  const out: [number, string][] = [];
  let afterInf = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXTINF:')) afterInf = true;
    else if (afterInf && line !== '' && !line.startsWith('#')) {
      out.push([msn++, new URL(line, url).href]);
      afterInf = false;
    }
  }
  return out;
}

function copyTo(url: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: httpAgent, headers, signal: stopping.signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode} for ${url}`));
        return;
      }
      pipeline(res, createWriteStream(path)).then(resolve, reject);
    });
    req.on('error', reject);
  });
}

/** Reload (blocking on the next segment), copy every segment not copied yet, reload again. */
async function followCopy(url: string, index: number, dir: string): Promise<void> {
  let last = -1;
  let next: number | undefined;
  for (;;) {
    try {
      const target = next === undefined ? url : withBlockingParams(url, { msn: next });
      const text = await httpGetText(target);
      if (next !== undefined) reloads++;
      for (const [msn, segmentUrl] of segmentsOf(text, url)) {
        if (msn <= last) continue;
        // The first load starts at the live edge, as a dump does.
        if (next !== undefined) await copyTo(segmentUrl, join(dir, `r${index}_${msn}.m4s`));
        last = msn;
      }
      next = last + 1;
    } catch {
      if (!(await failed())) return;
    }
  }
}

async function followLoader(url: string, client: OriginClient): Promise<void> {
  const loader = new RenditionLoader(client, url, {
    signal: stopping.signal,
    limits: { goneAfterMs: 30_000, unreachableAfterMs: 30_000 },
  });
  try {
    // Each update is taken and dropped: what a consumer does with it is not the loader's cost.
    const updates = loader.updates();
    let update = await updates.next();
    while (update.done !== true) update = await updates.next();
  } catch {
    if (!stopping.signal.aborted) failures++;
  }
}

async function follow(urls: string[], dir: string | undefined): Promise<void> {
  if (mode === 'idle') return;
  if (mode === 'copy') {
    if (dir === undefined) throw new Error('the copy mode needs a directory');
    await mkdir(dir, { recursive: true });
    urls.forEach((url, index) => void followCopy(url, index, dir));
    return;
  }
  if (mode === 'loader') {
    // Its reloads are counted as the requests it makes (an answer with nothing new included).
    const client = new OriginClient({
      connections: new OriginConnections(),
      onRequest: (event) => {
        if ('status' in event && event.url.includes('_HLS_msn=')) reloads++;
      },
    });
    for (const url of urls) void followLoader(url, client);
    return;
  }
  const getText =
    mode === 'http' ? httpGetText : mode === 'undici' ? undiciGetText() : clientGetText();
  for (const url of urls) void followBare(url, getText);
}

process.on('message', (message: { op: string; urls?: string[]; dir?: string }) => {
  if (message.op === 'follow') {
    void follow(message.urls ?? [], message.dir).then(() => process.send!({ op: 'following' }));
  } else if (message.op === 'count') {
    process.send!({ op: 'count', reloads, failures });
  }
});
process.on('disconnect', () => {
  stopping.abort();
  process.exit(0);
});
process.send!({ type: 'ready' });
