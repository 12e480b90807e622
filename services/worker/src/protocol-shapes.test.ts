import {
  DUMP_FAILURE_CODES,
  progressSchema,
  type DumpFailureCode,
  type ProgressSnapshot,
} from '@hlsdump/contracts';
import type { DumpProgress, EngineFailureCode, RenditionProgress } from '@hlsdump/dump-engine';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { POISON_DUMP_CODE } from './poison-dump.js';
import { CheckpointInvalidError } from './run-checkpoints.js';

/*
 * The worker is where the engine's shapes enter the cluster's protocol (the engine does not depend
 * on contracts): what it reports must be what the protocol reads back, field for field.
 */
describe('what a worker reports', () => {
  it('carries only failure codes in the protocol list: the engine’s (checked by the compiler) and its own', () => {
    expectTypeOf<EngineFailureCode>().toExtend<DumpFailureCode>();
    const known: readonly string[] = DUMP_FAILURE_CODES;
    expect(known).toContain(POISON_DUMP_CODE);
    expect(known).toContain(new CheckpointInvalidError('x').code);
    expect(new Set(known).size).toBe(known.length);
  });

  it('reports a progress the registry reads back whole: the same fields on both sides', () => {
    expectTypeOf<DumpProgress>().toExtend<ProgressSnapshot>();
    expectTypeOf<keyof DumpProgress>().toEqualTypeOf<keyof ProgressSnapshot>();
    type SnapshotRendition = ProgressSnapshot['renditions'][number];
    expectTypeOf<keyof RenditionProgress>().toEqualTypeOf<keyof SnapshotRendition>();
    const progress: DumpProgress = {
      status: 'Error',
      error: { code: 'STORAGE_FULL', message: 'no space' },
      endReason: 'no space',
      renditions: [
        { chunklist: 'c.m3u8', lastMsn: 7, segments: 3, bytes: 10, gaps: 1, lagSeconds: 2 },
      ],
      filesWritten: 5,
      bytesWritten: 10,
      gaps: 1,
      notices: ['EXT-X-SKIP ignored'],
    };
    expect(progressSchema.parse(JSON.parse(JSON.stringify(progress)))).toEqual(progress);
  });
});
