import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startTestServer } from './http-server.test-support.js';
import type { TestServer } from './http-server.test-support.js';

export interface LiveOriginOptions {
  /** Advertise CAN-BLOCK-RELOAD and list parts. */
  lowLatency: boolean;
  /** ms between two parts (LL) or two segments (plain). */
  tickMs: number;
  partsPerSegment?: number;
  /** Segments already complete when the server starts. */
  initialSegments?: number;
  /** After this many complete segments, ENDLIST. */
  endAfterSegments?: number;
  /** Segments kept in the sliding window. */
  window?: number;
}

/**
 * A tiny live origin: the playlist advances on a timer, and with lowLatency it holds blocking
 * requests until the asked-for part exists, as the LL-HLS spec requires.
 */
export class LiveOrigin {
  readonly changes = new EventEmitter();
  server!: TestServer;
  /** Complete segments so far (msn 0..complete-1). */
  complete: number;
  /** Parts of the in-progress segment. */
  parts = 0;
  ended = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly partsPerSegment: number;
  private readonly window: number;

  constructor(private readonly options: LiveOriginOptions) {
    this.complete = options.initialSegments ?? 2;
    this.partsPerSegment = options.partsPerSegment ?? 4;
    this.window = options.window ?? 6;
    this.changes.setMaxListeners(100);
  }

  get url(): string {
    return `${this.server.origin}/app/stream/chunklist.m3u8?session=s1`;
  }

  async start(): Promise<this> {
    this.server = await startTestServer((req, res) => this.handle(req, res));
    this.timer = setInterval(() => this.tick(), this.options.tickMs);
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.server.close();
  }

  private tick(): void {
    if (this.ended) return;
    if (this.options.lowLatency) {
      this.parts++;
      if (this.parts === this.partsPerSegment) {
        this.parts = 0;
        this.complete++;
      }
    } else {
      this.complete++;
    }
    if (
      this.options.endAfterSegments !== undefined &&
      this.complete >= this.options.endAfterSegments
    ) {
      this.ended = true;
      this.parts = 0;
      clearInterval(this.timer);
    }
    this.changes.emit('change');
  }

  /** Whether the playlist already holds the part the client blocks on (or is over). */
  private has(msn: number, part: number | undefined): boolean {
    if (this.ended) return true;
    if (part === undefined) return this.complete > msn;
    if (this.complete > msn) return true;
    return this.complete === msn && this.parts > part;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/app/stream/chunklist.m3u8') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const msnParam = url.searchParams.get('_HLS_msn');
    if (this.options.lowLatency && msnParam !== null) {
      const msn = Number(msnParam);
      const partParam = url.searchParams.get('_HLS_part');
      const part = partParam === null ? undefined : Number(partParam);
      if (msn > this.complete + 1) {
        res.statusCode = 400;
        res.end();
        return;
      }
      const answer = (): void => {
        if (!this.has(msn, part)) return;
        this.changes.off('change', answer);
        this.send(res);
      };
      this.changes.on('change', answer);
      res.on('close', () => this.changes.off('change', answer));
      answer();
      return;
    }
    this.send(res);
  }

  private send(res: ServerResponse): void {
    if (!res.writable) return;
    res.setHeader('content-type', 'application/vnd.apple.mpegurl');
    res.end(this.playlist());
  }

  playlist(): string {
    const first = Math.max(0, this.complete - this.window);
    const lines = ['#EXTM3U', '#EXT-X-VERSION:9', '#EXT-X-TARGETDURATION:1'];
    if (this.options.lowLatency) {
      lines.push(
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.3',
        '#EXT-X-PART-INF:PART-TARGET=0.1',
      );
    }
    lines.push(`#EXT-X-MEDIA-SEQUENCE:${first}`, '#EXT-X-MAP:URI="init.mp4"');
    const segmentDuration = this.options.lowLatency
      ? (this.partsPerSegment * this.options.tickMs) / 1000
      : this.options.tickMs / 1000;
    for (let msn = first; msn < this.complete; msn++) {
      if (this.options.lowLatency && msn >= this.complete - 2) {
        for (let p = 0; p < this.partsPerSegment; p++) lines.push(this.partLine(msn, p));
      }
      lines.push(`#EXTINF:${segmentDuration.toFixed(3)},`, `seg_${msn}.m4s`);
    }
    if (this.ended) {
      lines.push('#EXT-X-ENDLIST');
    } else if (this.options.lowLatency) {
      for (let p = 0; p < this.parts; p++) lines.push(this.partLine(this.complete, p));
      lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_${this.complete}_${this.parts}.m4s"`);
    }
    return lines.join('\n') + '\n';
  }

  private partLine(msn: number, part: number): string {
    return `#EXT-X-PART:DURATION=${(this.options.tickMs / 1000).toFixed(3)},URI="part_${msn}_${part}.m4s"${part === 0 ? ',INDEPENDENT=YES' : ''}`;
  }
}
