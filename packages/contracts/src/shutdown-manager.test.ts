import { describe, expect, it } from 'vitest';
import { ShutdownManager } from './shutdown-manager.js';

describe('ShutdownManager', () => {
  it('runs handlers in order, once, however often close() is called', async () => {
    const calls: string[] = [];
    const manager = new ShutdownManager({ timeoutMs: 1_000 });
    for (const name of ['worker', 'subscriber', 'queue', 'redis'])
      manager.register(name, async () => void calls.push(name));
    const first = manager.close();
    const second = manager.close();
    expect(second).toBe(first);
    expect(await first).toEqual({
      completed: ['worker', 'subscriber', 'queue', 'redis'],
      failed: [],
      timedOut: [],
    });
    await manager.close();
    expect(calls).toEqual(['worker', 'subscriber', 'queue', 'redis']);
  });

  it('abandons a hung handler at the deadline and still runs the rest', async () => {
    const calls: string[] = [];
    const manager = new ShutdownManager({ timeoutMs: 200 });
    manager.register('worker', () => new Promise(() => {})); // like worker.close() waiting forever
    manager.register('redis', () => void calls.push('redis'));
    manager.register('broken', () => {
      throw new Error('boom');
    });
    const began = Date.now();
    const report = await manager.close();
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(report).toEqual({ completed: ['redis'], failed: ['broken'], timedOut: ['worker'] });
    expect(calls).toEqual(['redis']);
  });
});
