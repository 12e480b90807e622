import type { DumpRecord } from '@hlsdump/contracts';
import type { DumpCheckpoint } from '@hlsdump/dump-engine';
import { describe, expect, it } from 'vitest';
import { CheckpointInvalidError, checkpointOf, rebuildableFromDisk } from './run-checkpoints.js';

const checkpoint: DumpCheckpoint = {
  version: 2,
  request: {
    originBaseUrl: 'http://origin/app/stream/',
    playlists: ['llhls.m3u8'],
    outputPath: '/dumps/one',
    infoFile: '/dumps/one.xml',
    streamName: '/default/app/stream',
    maxDurationSeconds: 60,
    origin: { headers: { authorization: 'Bearer x' } },
  },
  renditions: [
    {
      url: 'http://origin/app/stream/chunklist_0.m3u8',
      chunklist: 'chunklist_0.m3u8',
      lastMsn: 41,
      entryCount: 3,
      lastEntry: {
        msn: 41,
        file: 'seg_41.m4s',
        duration: 2,
        discontinuity: false,
        programDateTime: '2026-12-01T00:00:00.000Z',
        map: 'init_0.mp4',
        tags: ['#EXT-X-DATERANGE:ID="a"'],
      },
      inits: { 'http://origin/app/stream/init.mp4': 'init_0.mp4' },
      gaps: 1,
      bytes: 123_456,
    },
  ],
  durationLimit: { startMsn: 39, countedThrough: 41, seconds: 6 },
};

const recordWith = (json: string | undefined) => ({ checkpoint: json }) as DumpRecord;

describe('a checkpoint read back from the record', () => {
  it('is the checkpoint that was saved, fields unknown to this version included', () => {
    expect(checkpointOf(recordWith(JSON.stringify(checkpoint)))).toEqual(checkpoint);
    const newer = { ...checkpoint, addedLater: { kept: true } };
    expect(checkpointOf(recordWith(JSON.stringify(newer)))).toEqual(newer);
  });

  it('is absent when the record has none', () => {
    expect(checkpointOf(recordWith(undefined))).toBeUndefined();
  });

  it('names the problem when it is not JSON', () => {
    const read = () => checkpointOf(recordWith('{"version":2,'));
    expect(read).toThrow(CheckpointInvalidError);
    expect(read).toThrow(/checkpoint is not JSON/);
  });

  it('names the field that is wrong when it is not a checkpoint', () => {
    const broken = {
      ...checkpoint,
      renditions: [{ ...checkpoint.renditions[0], entryCount: '3' }],
    };
    expect(() => checkpointOf(recordWith(JSON.stringify(broken)))).toThrow(
      /renditions\.0\.entryCount/,
    );
    expect(() => checkpointOf(recordWith(JSON.stringify({ ...checkpoint, version: 1 })))).toThrow(
      /version/,
    );
  });
});

describe('a checkpoint a new owner can rebuild from the disk', () => {
  const rendition = checkpoint.renditions[0]!;
  const noLimit: DumpCheckpoint = { ...checkpoint, durationLimit: undefined };
  const after = (change: Partial<DumpCheckpoint['renditions'][number]>): DumpCheckpoint => ({
    ...noLimit,
    renditions: [{ ...rendition, ...change, inits: { ...(change.inits ?? rendition.inits) } }],
  });

  it('is one listing more segments, each the next sequence number', () => {
    expect(rebuildableFromDisk(noLimit, after({ lastMsn: 42, entryCount: 4, bytes: 9 }))).toBe(
      true,
    );
    expect(rebuildableFromDisk(noLimit, after({ lastMsn: 44, entryCount: 6 }))).toBe(true);
    expect(rebuildableFromDisk(noLimit, noLimit)).toBe(true);
  });

  it('is not one past a gap, a new init segment, a first segment or a counted duration', () => {
    expect(rebuildableFromDisk(noLimit, after({ lastMsn: 43, entryCount: 4 }))).toBe(false);
    expect(rebuildableFromDisk(noLimit, after({ lastMsn: 42, entryCount: 4, gaps: 2 }))).toBe(
      false,
    );
    const newInit = { ...rendition.inits, 'http://origin/app/stream/init2.mp4': 'init_1.mp4' };
    expect(
      rebuildableFromDisk(noLimit, after({ lastMsn: 42, entryCount: 4, inits: newInit })),
    ).toBe(false);
    const first = { ...rendition };
    delete first.lastMsn;
    const fresh = { ...noLimit, renditions: [first] };
    expect(rebuildableFromDisk(fresh, after({ lastMsn: 42, entryCount: 4 }))).toBe(false);
    const counted = {
      ...checkpoint,
      durationLimit: { startMsn: 39, countedThrough: 42, seconds: 8 },
      renditions: after({ lastMsn: 42, entryCount: 4 }).renditions,
    };
    expect(rebuildableFromDisk(checkpoint, counted)).toBe(false);
    const otherRequest = {
      ...after({ lastMsn: 42, entryCount: 4 }),
      request: { ...checkpoint.request },
    };
    expect(rebuildableFromDisk(noLimit, otherRequest)).toBe(false);
  });
});
