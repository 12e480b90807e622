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
 * requests: a channel is subscribed while at least one request watches it.
 */
export class DumpEventHub {
  private readonly channels = new Map<
    string,
    { listeners: Set<Listener>; ready: Promise<unknown> }
  >();

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: RegistryKeys,
  ) {
    subscriber.on('message', (channel: string, payload: string) => {
      const entry = this.channels.get(channel);
      const event = entry && parseMessage(dumpEventSchema, payload);
      if (!entry || !event) return;
      for (const listener of entry.listeners) listener(event);
    });
  }

  /** Subscribes to the dumps' channels; resolves once Redis confirmed, so no later event is missed. */
  async watch(dumpKeys: string[]): Promise<EventWatch> {
    const watch = new EventWatch(() => this.release(channels, listener));
    const listener: Listener = (event) => watch.push(event);
    const channels = [...new Set(dumpKeys.map((key) => this.keys.events(key)))];
    const ready: Promise<unknown>[] = [];
    for (const channel of channels) {
      let entry = this.channels.get(channel);
      if (!entry) {
        entry = { listeners: new Set(), ready: this.subscriber.subscribe(channel) };
        this.channels.set(channel, entry);
      }
      entry.listeners.add(listener);
      ready.push(entry.ready);
    }
    try {
      await Promise.all(ready);
    } catch (error) {
      watch.close();
      throw error;
    }
    return watch;
  }

  private release(channels: string[], listener: Listener): void {
    for (const channel of channels) {
      const entry = this.channels.get(channel);
      if (!entry) continue;
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        this.channels.delete(channel);
        // Commands on one connection run in order: a later SUBSCRIBE of this channel wins.
        this.subscriber.unsubscribe(channel).catch(() => {});
      }
    }
  }
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
