// A real player for dumped streams: hls.js in Debian's headless Chromium, driven by playwright-core.
// The dump folder and hls.js are served by Python's http.server, a server this project did not write.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** What the player did with one master playlist. */
export interface PlaybackResult {
  /** Why the run stopped: `ended`, `fatal`, or `timeout`. */
  outcome: 'ended' | 'fatal' | 'timeout';
  /** hls.js errors marked fatal (the player gave up). */
  fatal: string[];
  /** hls.js errors it recovered from, for the failure message. */
  recovered: string[];
  /** The media element's events, in order (playing, seeking, seeked, ended...). */
  events: string[];
  duration: number;
  /** Where playback was when the run stopped. */
  currentTime?: number;
  /** Where the player seeked to: 3 s before the end. */
  seekedTo?: number;
  /** Audio and subtitle tracks hls.js found in the master. */
  audioTracks: string[];
  subtitleTracks: string[];
}

export interface PlayOptions {
  timeoutMs?: number;
  /** hls.js settings on top of the defaults (e.g. a short buffer). */
  hlsConfig?: Record<string, unknown>;
}

export interface HlsPlayer {
  /** Loads `master` from `dir`, plays, seeks to 3 s before the end, and waits for `ended`. */
  play(dir: string, master: string, options?: PlayOptions): Promise<PlaybackResult>;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><html><body><script src="hls.min.js"></script></body></html>`;

export async function startHlsPlayer(): Promise<HlsPlayer> {
  const root = await mkdtemp(join(tmpdir(), 'hlsdump-player-'));
  const profile = await mkdtemp(join(tmpdir(), 'hlsdump-chromium-profile-'));
  const require = createRequire(import.meta.url);
  await copyFile(require.resolve('hls.js/dist/hls.min.js'), join(root, 'hls.min.js'));
  await writeFile(join(root, 'index.html'), PAGE);
  const server = await startHttpServer(root);
  let browser: BrowserContext | undefined;
  try {
    // A fresh profile each run (launchPersistentContext is how playwright takes --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  } catch (error) {
    server.process.kill();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const launched = browser;
  let served = 0;
  return {
    async play(dir, master, options = {}) {
      const name = `dump-${served++}`;
      await symlink(dir, join(root, name));
      const page = await launched.newPage();
      try {
        await page.goto(`${server.url}/index.html`);
        return await page.evaluate(playInPage, {
          src: `${name}/${master}`,
          timeoutMs: options.timeoutMs ?? 45_000,
          hlsConfig: options.hlsConfig ?? {},
        });
      } finally {
        await page.close();
      }
    },
    async close() {
      await launched.close();
      server.process.kill();
      await rm(root, { recursive: true, force: true });
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Runs in the page: the whole playback, told back as a PlaybackResult. */
function playInPage({
  src,
  timeoutMs,
  hlsConfig,
}: {
  src: string;
  timeoutMs: number;
  hlsConfig: Record<string, unknown>;
}): Promise<PlaybackResult> {
  interface HlsErrorData {
    type: string;
    details: string;
    fatal: boolean;
    error?: { message?: string };
  }
  // The page's own types, declared here: the tests compile without the DOM library.
  interface Video {
    muted: boolean;
    currentTime: number;
    duration: number;
    playbackRate: number;
    play(): Promise<void>;
    addEventListener(name: string, listener: () => void): void;
  }
  interface PageGlobals {
    Hls: { new (config: object): HlsInstance; Events: Record<string, string> };
    document: { createElement(tag: 'video'): Video; body: { appendChild(node: Video): void } };
  }
  interface HlsInstance {
    on(event: string, listener: (event: string, data: HlsErrorData) => void): void;
    loadSource(src: string): void;
    attachMedia(media: Video): void;
    destroy(): void;
    audioTracks: { name: string; lang?: string }[];
    subtitleTracks: { name: string; lang?: string }[];
  }
  const { Hls, document } = globalThis as unknown as PageGlobals;
  return new Promise((resolve) => {
    const video = document.createElement('video');
    video.muted = true;
    document.body.appendChild(video);
    const result: PlaybackResult = {
      outcome: 'timeout',
      fatal: [],
      recovered: [],
      events: [],
      duration: Number.NaN,
      audioTracks: [],
      subtitleTracks: [],
    };
    // Files on a local server either load or do not: a key that cannot be had fails at once.
    const noRetry = {
      maxTimeToFirstByteMs: 8000,
      maxLoadTimeMs: 20000,
      timeoutRetry: null,
      errorRetry: null,
    };
    const hls = new Hls({ enableWorker: true, keyLoadPolicy: { default: noRetry }, ...hlsConfig });
    let done = false;
    const finish = (outcome: PlaybackResult['outcome']): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      result.outcome = outcome;
      result.duration = video.duration;
      result.currentTime = video.currentTime;
      result.audioTracks = hls.audioTracks.map((t) => `${t.name}/${t.lang ?? ''}`);
      result.subtitleTracks = hls.subtitleTracks.map((t) => `${t.name}/${t.lang ?? ''}`);
      hls.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    hls.on(Hls.Events['ERROR']!, (_event, data) => {
      const text = `${data.type}/${data.details}: ${data.error?.message ?? ''}`;
      if (data.fatal) {
        result.fatal.push(text);
        finish('fatal');
      } else {
        result.recovered.push(text);
      }
    });
    hls.on(Hls.Events['MANIFEST_PARSED']!, () => {
      video.play().catch((error: Error) => result.recovered.push(`play(): ${error.message}`));
    });
    for (const name of ['playing', 'seeking', 'seeked', 'waiting', 'error']) {
      video.addEventListener(name, () => result.events.push(name));
    }
    video.addEventListener('timeupdate', () => {
      if (result.seekedTo !== undefined || !(video.currentTime > 0.2)) return;
      if (!Number.isFinite(video.duration)) return;
      result.seekedTo = Math.max(0, video.duration - 3);
      video.currentTime = result.seekedTo;
      // The last 3 s at double speed: still every frame decoded, in half the time.
      video.playbackRate = 2;
    });
    video.addEventListener('ended', () => {
      result.events.push('ended');
      finish('ended');
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  });
}

async function startHttpServer(root: string): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const port = /port (\d+)/.exec(output)?.[1];
      if (port !== undefined) {
        child.stdout?.off('data', onData);
        resolve(`http://127.0.0.1:${port}`);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`http.server exited (${code}): ${output}`)));
  });
  // Its request log goes to stderr; drained so it never blocks.
  child.stderr?.resume();
  return { url, process: child };
}
