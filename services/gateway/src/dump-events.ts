import {
  dumpEventSchema,
  parseMessage,
  type DumpEventMessage,
  type RegistryKeys,
} from '@hlsdump/contracts';
import type { Redis } from 'ioredis';

type Listener = (event: DumpEventMessage) => void;

/**
 * The gateway's view of dump event channels over one subscriber connection, shared by all
 * requests: one pattern subscription for every dump's channel, made once (ioredis makes it again
 * after a reconnect), so a start or a stop costs no SUBSCRIBE and UNSUBSCRIBE of its own. Only
 * the lifecycle events of dumps go there, a handful per dump; those no request watches are
 * dropped without being parsed.
 */
export class DumpEventHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscribed: Promise<unknown> | undefined;

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: RegistryKeys,
  ) {
    subscriber.on('pmessage', (_pattern: string, channel: string, payload: string) => {
      const listeners = this.listeners.get(channel);
      const event = listeners && parseMessage(dumpEventSchema, payload);
      if (!listeners || !event) return;
      for (const listener of listeners) listener(event);
    });
  }

  /** Listens to the dumps' channels; resolves once Redis confirmed, so no later event is missed. */
  async watch(dumpKeys: string[]): Promise<EventWatch> {
    const watch = new EventWatch(() => this.release(channels, listener));
    const listener: Listener = (event) => watch.push(event);
    const channels = [...new Set(dumpKeys.map((key) => this.keys.events(key)))];
    for (const channel of channels) {
      let listeners = this.listeners.get(channel);
      if (!listeners) this.listeners.set(channel, (listeners = new Set()));
      listeners.add(listener);
    }
    try {
      // No offline queue: while the connection is away a watch fails at once, as a SUBSCRIBE would.
      if (this.subscriber.status !== 'ready')
        throw new Error('the events subscriber is not connected');
      await (this.subscribed ??= this.subscriber
        .psubscribe(`${globEscaped(this.keys.events(''))}*`)
        .catch((error: unknown) => {
          this.subscribed = undefined;
          throw error;
        }));
    } catch (error) {
      watch.close();
      throw error;
    }
    return watch;
  }

  private release(channels: string[], listener: Listener): void {
    for (const channel of channels) {
      const listeners = this.listeners.get(channel);
      listeners?.delete(listener);
      if (listeners?.size === 0) this.listeners.delete(channel);
    }
  }
}

/** `text` matched literally in a Redis glob pattern. */
function globEscaped(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}

/** The events of some dumps since the watch began, buffered until read. */
export class EventWatch {
  private readonly buffer: DumpEventMessage[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(private readonly onClose: () => void) {}

  push(event: DumpEventMessage): void {
    this.buffer.push(event);
    this.wake?.();
  }

  /** The first event (buffered or future) matching `predicate`, or null at the deadline. */
  async next(
    predicate: (event: DumpEventMessage) => boolean,
    deadline: number,
  ): Promise<DumpEventMessage | null> {
    for (;;) {
      const index = this.buffer.findIndex(predicate);
      if (index >= 0) return this.buffer.splice(index, 1)[0] ?? null;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.onClose();
  }
}
