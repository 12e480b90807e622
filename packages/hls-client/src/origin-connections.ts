import * as tls from 'node:tls';
import { Agent } from 'undici';
import { InFlightRequests } from './in-flight-requests.js';

/** How connections to an origin are made and how long their answers may stay silent. */
export interface ConnectionSettings {
  connectTimeoutMs?: number;
  /** Time to wait for response headers; a blocking playlist reload may ask for more per request. */
  headersTimeoutMs?: number;
  /** Longest silence allowed between two body chunks (a stalled body). */
  bodyTimeoutMs?: number;
  /** A response header block larger than this is refused. */
  maxHeaderBytes?: number;
  /** At most this many connections per origin; none when unset. */
  connectionsPerOrigin?: number;
  /**
   * Shared connections whose last client left stay open this long for the next client (a worker
   * whose every dump stopped, about to take new ones), as an idle connection would anyway.
   */
  lingerMs?: number;
  /** A request abandoned by its client (see `ConnectionsLease.abandoned`) is ended after this long. */
  abandonedLimitMs?: number;
}

export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_LINGER_MS = 10_000;
/**
 * Longer than an origin should hold a blocking reload (RFC 8216bis: three target durations), short
 * enough that one claiming hour-long targets cannot keep abandoned connections for hours.
 */
const DEFAULT_ABANDONED_LIMIT_MS = 30_000;

/** A client's use of connections: the Agent, given back with `release` once its requests ended. */
export interface ConnectionsLease {
  agent: Agent;
  /**
   * Requests their clients gave up on, left to end on their own so that their connections stay
   * open; ended when the Agent closes, since no one waits for them.
   */
  abandoned: InFlightRequests;
  release(): Promise<void>;
}

/** Keep-alive connections, no pipelining: a held blocking playlist request must never queue a segment download behind it. */
function originAgent(settings: ConnectionSettings, ca: string | undefined): Agent {
  return new Agent({
    connect: {
      timeout: settings.connectTimeoutMs ?? 5_000,
      ...(ca !== undefined ? { ca: [...tls.rootCertificates, ca] } : {}),
    },
    headersTimeout: settings.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    bodyTimeout: settings.bodyTimeoutMs ?? 10_000,
    maxHeaderSize: settings.maxHeaderBytes ?? 64 * 1024,
    connections: settings.connectionsPerOrigin ?? null,
    pipelining: 1,
  });
}

/** An Agent of one client's own, closed with it. */
export function ownConnections(
  settings: ConnectionSettings,
  ca: string | undefined,
): ConnectionsLease {
  const agent = originAgent(settings, ca);
  const abandoned = abandonedRequests(settings);
  return { agent, abandoned, release: () => closeIdle(agent, abandoned) };
}

function abandonedRequests(settings: ConnectionSettings): InFlightRequests {
  return new InFlightRequests(settings.abandonedLimitMs ?? DEFAULT_ABANDONED_LIMIT_MS);
}

/** Closes an Agent whose clients' requests have ended: only abandoned ones and idle connections are left. */
function closeIdle(agent: Agent, abandoned: InFlightRequests): Promise<void> {
  abandoned.cancelAll(new Error('The origin connections are closed'));
  return agent.close().catch(() => agent.destroy().catch(() => undefined));
}

/**
 * Origin connections shared by every dump of a process: one Agent per set of trusted
 * certificates, closed `lingerMs` after its last client left unless another came. A dump's own
 * pool idles between its segments and loses its connections to the origin's keep-alive timeout
 * (segments of 4 s against Node's 5 s less undici's margin: a new TCP connection per segment);
 * shared, the connection one rendition leaves idle is the next one's. No limit per origin by
 * default, so that a segment never waits for a connection held by another dump's blocking
 * playlist request.
 */
export class OriginConnections {
  /** Time the shared connections wait for response headers: every client on them counts with it. */
  readonly headersTimeoutMs: number;
  private readonly agents = new Map<string, SharedAgent>();

  constructor(private readonly settings: ConnectionSettings = {}) {
    this.headersTimeoutMs = settings.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  }

  acquire(ca: string | undefined): ConnectionsLease {
    const key = ca ?? '';
    const entry = this.agents.get(key) ?? {
      agent: originAgent(this.settings, ca),
      abandoned: abandonedRequests(this.settings),
      clients: 0,
      closing: undefined,
    };
    this.agents.set(key, entry);
    clearTimeout(entry.closing);
    entry.closing = undefined;
    entry.clients++;
    return {
      agent: entry.agent,
      abandoned: entry.abandoned,
      release: () => this.release(key, entry),
    };
  }

  private async release(key: string, entry: SharedAgent): Promise<void> {
    if (--entry.clients > 0) return;
    const close = (): Promise<void> => {
      this.agents.delete(key);
      return closeIdle(entry.agent, entry.abandoned);
    };
    const lingerMs = this.settings.lingerMs ?? DEFAULT_LINGER_MS;
    if (lingerMs <= 0) return close();
    entry.closing = setTimeout(() => void close(), lingerMs);
    // Never what keeps a process alive.
    entry.closing.unref();
  }
}

interface SharedAgent {
  agent: Agent;
  abandoned: InFlightRequests;
  clients: number;
  /** The close due once the last client left, cancelled by the next acquire. */
  closing: NodeJS.Timeout | undefined;
}
