import { describe, expect, it } from 'vitest';
import { SmallFileCopies } from './small-file-copies.js';

/** An origin whose bytes per path are set by the test, and an output that records writes. */
function harness() {
  const originBytes = new Map<string, Buffer>();
  const written = new Map<string, Buffer>();
  const fetched: string[] = [];
  let names = 0;
  const copies = new SmallFileCopies({
    fetch: async (url) => {
      fetched.push(url);
      return originBytes.get(new URL(url).pathname) ?? Buffer.alloc(0);
    },
    read: async (file) => written.get(file),
    write: async (file, bytes) => {
      written.set(file, bytes);
    },
    nameFor: (url) => `${new URL(url).pathname.slice(1)}.${names++}`,
  });
  return { copies, originBytes, written, fetched };
}

describe('SmallFileCopies', () => {
  it('fetches a URL once however many segments name it', async () => {
    const h = harness();
    h.originBytes.set('/init.mp4', Buffer.from('init'));
    const a = await h.copies.localFile('http://o/init.mp4', undefined, 'init');
    const b = await h.copies.localFile('http://o/init.mp4', undefined, 'init');
    expect(a).toBe(b);
    expect(h.fetched).toHaveLength(1);
  });

  it('reuses the copy when a new token names the same bytes, and keeps one entry per path', async () => {
    const h = harness();
    h.originBytes.set('/key.key', Buffer.alloc(16, 1));
    const files = new Set<string>();
    for (let token = 0; token < 50; token++)
      files.add(await h.copies.localFile(`http://o/key.key?token=${token}`, undefined, 'key'));
    expect(files.size).toBe(1);
    expect(h.written.size).toBe(1);
    expect(Object.keys(h.copies.entries())).toHaveLength(1);
  });

  it('writes a new file when the bytes behind the same path change (a rotated key)', async () => {
    const h = harness();
    h.originBytes.set('/key.key', Buffer.alloc(16, 1));
    const first = await h.copies.localFile('http://o/key.key?t=1', undefined, 'key');
    h.originBytes.set('/key.key', Buffer.alloc(16, 2));
    const second = await h.copies.localFile('http://o/key.key?t=2', undefined, 'key');
    expect(second).not.toBe(first);
    expect(h.written.get(second)).toEqual(Buffer.alloc(16, 2));
    expect(h.written.get(first)).toEqual(Buffer.alloc(16, 1));
  });

  it('tells byte ranges of one resource apart', async () => {
    const h = harness();
    h.originBytes.set('/main.mp4', Buffer.from('0123456789'));
    const a = await h.copies.localFile('http://o/main.mp4', { offset: 0, length: 4 }, 'init');
    const b = await h.copies.localFile('http://o/main.mp4', { offset: 4, length: 4 }, 'init');
    expect(a).not.toBe(b);
  });
});
