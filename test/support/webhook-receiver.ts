import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What this receiver answered. */
  status: number;
  /** Wall clock when the request arrived, ms. */
  at: number;
}

/**
 * A webhook receiver over real HTTP (node:http) that a test can make slow, failing, or gone:
 * it records every request it got, including those it answered with an error.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Delay before each answer. */
  delayMs = 0;
  /** Answer this status (instead of 204) while set. */
  failWith: number | undefined;
  private server: Server | undefined;
  private waiters = new Set<() => void>();

  readonly port: number;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(port = 0): Promise<WebhookReceiver> {
    const probe = new WebhookReceiver(port);
    await probe.listen(port);
    return probe;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = Date.now();
        const reply = (): void => {
          const status = this.failWith ?? 204;
          this.requests.push({
            path: req.url ?? '',
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            status,
            at,
          });
          res.writeHead(status).end();
          for (const wake of this.waiters) wake();
        };
        if (this.delayMs > 0) setTimeout(reply, this.delayMs);
        else reply();
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        (this as { port: number }).port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Down: the port refuses connections until restart(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Up again on the same port. */
  async restart(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  /** Resolves once `check` holds over the requests so far (re-checked on every request). */
  until(check: (requests: ReceivedRequest[]) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`receiver: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const test = (): void => {
        if (!check(this.requests)) return;
        clearTimeout(timer);
        this.waiters.delete(test);
        resolve();
      };
      this.waiters.add(test);
      test();
    });
  }
}
