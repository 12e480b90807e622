import { DUMP_FAILURE_CODES, type DumpFailureCode } from '@hlsdump/contracts';
import type { EngineFailureCode } from '@hlsdump/dump-engine';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { POISON_DUMP_CODE } from './poison-dump.js';
import { CheckpointInvalidError } from './run-checkpoints.js';

describe('the failure codes a worker reports', () => {
  it('are all in the cluster protocol list, the engine’s (checked by the compiler) and the worker’s', () => {
    expectTypeOf<EngineFailureCode>().toExtend<DumpFailureCode>();
    const known: readonly string[] = DUMP_FAILURE_CODES;
    expect(known).toContain(POISON_DUMP_CODE);
    expect(known).toContain(new CheckpointInvalidError('x').code);
    expect(new Set(known).size).toBe(known.length);
  });
});
