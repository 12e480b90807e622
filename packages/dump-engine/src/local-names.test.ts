import { describe, expect, it } from 'vitest';
import { LocalNames, sanitizeFileName } from './local-names.js';

describe('sanitizeFileName', () => {
  it.each([
    ['http://o/app/s/seg_0_video_12_llhls.m4s', 'seg_0_video_12_llhls.m4s'],
    ['http://o/app/s/seg.m4s?session=abc&x=1#frag', 'seg.m4s'],
    ['../../x', 'x'],
    ['..', 'file'],
    ['.', 'file'],
    ['http://o/a/..%2F..%2Fetc%2Fpasswd', '_.._etc_passwd'],
    ['http://o/a/%2e%2e', 'file'],
    ['http://o/a/.hidden', 'hidden'],
    ['http://o/a/with space&semi;.ts', 'with_space_semi_.ts'],
    ['http://o/a/back\\slash.ts', 'slash.ts'],
    ['http://o/a/nul%00byte.ts', 'nul_byte.ts'],
    ['http://o/a/%E0%A4%A.ts', '_E0_A4_A.ts'],
  ])('%s → %s', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('bounds very long names and keeps their extension', () => {
    const name = sanitizeFileName(`http://o/${'a'.repeat(5000)}.m4s`);
    expect(name.length).toBeLessThanOrEqual(150);
    expect(name.endsWith('.m4s')).toBe(true);
    expect(sanitizeFileName(`http://o/${'a'.repeat(5000)}b.m4s`)).not.toBe(name);
  });
});

describe('LocalNames', () => {
  it('gives clashing base names from different URLs distinct names', () => {
    const names = new LocalNames();
    const a = names.nameFor('http://o/v0/seg1.ts', 'r0');
    const b = names.nameFor('http://o/v1/seg1.ts', 'r1');
    const c = names.nameFor('http://o/v2/seg1.ts', 'r1');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(a).toBe('seg1.ts');
    expect(b).toBe('r1_seg1.ts');
  });

  it('keeps a stable name for init segments and playlists, and honours reservations', () => {
    const names = new LocalNames();
    names.reserve('info.xml');
    expect(names.stableNameFor('http://o/a/info.xml', 'r0')).toBe('r0_info.xml');
    expect(names.stableNameFor('http://o/a/init.mp4', 'r0')).toBe('init.mp4');
    expect(names.stableNameFor('http://o/a/init.mp4', 'r1')).toBe('init.mp4');
  });

  it('names segments from the folder as listed and the names given, asking the disk only of those', async () => {
    const names = new LocalNames();
    names.reserve('chunklist.m3u8');
    const onDisk = new Set<string>(['seg1.ts']);
    const asked: string[] = [];
    let listings = 0;
    const disk = {
      exists: async (name: string) => {
        await Promise.resolve();
        asked.push(name);
        return onDisk.has(name);
      },
      list: async () => {
        listings++;
        await Promise.resolve();
        return [...onDisk];
      },
    };
    // On disk already (an earlier segment of the same name): another name.
    expect(await names.segmentNameFor('http://o/v0/seg1.ts', 'r0', disk)).toBe('r0_seg1.ts');
    expect(asked).toEqual(['seg1.ts']);
    // Two renditions at the same moment: the second does not get the name the first holds.
    const [a, b] = await Promise.all([
      names.segmentNameFor('http://o/v0/seg2.ts', 'r0', disk),
      names.segmentNameFor('http://o/v1/seg2.ts', 'r1', disk),
    ]);
    expect(a).toBe('seg2.ts');
    expect(b).toBe('r1_seg2.ts');
    expect(await names.segmentNameFor('http://o/chunklist.m3u8', 'r0', disk)).toBe(
      'r0_chunklist.m3u8',
    );
    // Names neither listed nor given are not asked of the disk.
    expect(asked).toEqual(['seg1.ts']);
    // Given up without a file: the name is free again; written to disk: the disk says taken.
    names.written('seg2.ts');
    expect(await names.segmentNameFor('http://o/v0/seg2.ts', 'r0', disk)).toBe('seg2.ts');
    onDisk.add('seg2.ts');
    names.written('seg2.ts');
    expect(await names.segmentNameFor('http://o/v2/seg2.ts', 'r2', disk)).toBe('r2_seg2.ts');
    expect(asked).toEqual(['seg1.ts', 'seg2.ts', 'seg2.ts']);
    expect(listings).toBe(1);
  });

  it('lists the folder again after a listing failed', async () => {
    const names = new LocalNames();
    let fail = true;
    const disk = {
      exists: async () => false,
      list: async () => {
        if (fail) throw new Error('EIO');
        return ['seg1.ts'];
      },
    };
    await expect(names.segmentNameFor('http://o/seg1.ts', 'r0', disk)).rejects.toThrow('EIO');
    fail = false;
    expect(await names.segmentNameFor('http://o/seg2.ts', 'r0', disk)).toBe('seg2.ts');
  });

  it('gives a resumed dump the name of a file its dead owner left unlisted, once', async () => {
    const names = new LocalNames();
    names.reserve('chunklist.m3u8');
    const onDisk = new Set(['seg7.ts', 'chunklist.m3u8']);
    const disk = { exists: async (name: string) => onDisk.has(name), list: async () => onDisk };
    names.reclaim(['seg7.ts', 'chunklist.m3u8']);
    // The same segment again: written over, not kept beside a renamed twin.
    expect(await names.segmentNameFor('http://o/v0/seg7.ts', 'r0', disk)).toBe('seg7.ts');
    names.written('seg7.ts');
    // Reclaimed once: from now on the disk answers for it.
    expect(await names.segmentNameFor('http://o/v1/seg7.ts', 'r1', disk)).toBe('r1_seg7.ts');
    // A reserved name is never reclaimed.
    expect(await names.segmentNameFor('http://o/chunklist.m3u8', 'r0', disk)).toBe(
      'r0_chunklist.m3u8',
    );
  });
});
