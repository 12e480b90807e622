import type { DumpRecord, DumpRegistry } from '@hlsdump/contracts';
import type { DumpCheckpoint } from '@hlsdump/dump-engine';
import { z } from 'zod';
import type { OwnershipLease } from './ownership-lease.js';
import { writePathCall } from './registry-call.js';
import type { RunHooks } from './run-hooks.js';

/*
 * A dump's checkpoint travels through Redis as JSON: written by its owner before each chunklist
 * rewrite, read by whoever resumes the dump. Reading checks its shape, so a corrupt one ends the
 * dump with a clear error instead of resuming from garbage. Unknown fields pass through untouched
 * (a newer worker's checkpoint resumes as it was written).
 */

const chunklistEntrySchema = z.looseObject({
  msn: z.number().optional(),
  file: z.string(),
  duration: z.number(),
  title: z.string().optional(),
  discontinuity: z.boolean(),
  programDateTime: z.string().optional(),
  map: z.string().optional(),
  keys: z.array(z.string()).optional(),
  tags: z.array(z.string()).optional(),
  gap: z.boolean().optional(),
  discontinuitySequence: z.number().optional(),
});

const checkpointSchema = z.looseObject({
  version: z.literal(2),
  request: z.looseObject({
    originBaseUrl: z.string(),
    playlists: z.array(z.string()),
    outputPath: z.string(),
    infoFile: z.string().optional(),
    userData: z.string().optional(),
    streamName: z.string(),
    maxDurationSeconds: z.number().optional(),
    from: z.string().optional(),
    origin: z
      .looseObject({
        headers: z.record(z.string(), z.string()).optional(),
        caFile: z.string().optional(),
      })
      .optional(),
  }),
  renditions: z.array(
    z.looseObject({
      url: z.string(),
      chunklist: z.string(),
      lastMsn: z.number().optional(),
      entryCount: z.number(),
      lastEntry: chunklistEntrySchema.optional(),
      inits: z.record(z.string(), z.string()),
      gaps: z.number(),
      bytes: z.number(),
    }),
  ),
  durationLimit: z
    .looseObject({
      startMsn: z.number(),
      countedThrough: z.number().optional(),
      seconds: z.number(),
      stopMsn: z.number().optional(),
    })
    .optional(),
}) satisfies z.ZodType<DumpCheckpoint>;

/** A checkpoint in the record that is not one: the dump cannot be resumed where it was. */
export class CheckpointInvalidError extends Error {
  readonly code = 'CHECKPOINT_INVALID';
  override name = 'CheckpointInvalidError';
}

/** The record's checkpoint, checked; undefined when it has none (a first start). */
export function checkpointOf(record: DumpRecord): DumpCheckpoint | undefined {
  if (!record.checkpoint) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(record.checkpoint);
  } catch (error) {
    throw new CheckpointInvalidError(
      `The dump's checkpoint is not JSON (${(error as Error).message}); it cannot be resumed`,
    );
  }
  const parsed = checkpointSchema.safeParse(json);
  if (!parsed.success) {
    const problem = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'checkpoint'}: ${issue.message}`)
      .join('; ');
    throw new CheckpointInvalidError(
      `The dump's checkpoint is malformed (${problem}); it cannot be resumed`,
    );
  }
  return parsed.data;
}

/**
 * How long a checkpoint a new owner could rebuild from the chunklists on disk may go unsaved.
 * Only a crash reads a checkpoint older than the dump (a hand-off saves the suspended one), and
 * the restore catches up from the disk; this bounds how far it has to.
 */
export const REBUILDABLE_SAVE_INTERVAL_MS = 10_000;

/**
 * Saves the dump's checkpoints so that a new owner resumes exactly where this one was. One that only
 * lists more segments after the last saved one, each following the other (no gap, no new init
 * segment, nothing else changed), is saved at most every `rebuildableIntervalMs`: a new owner finds
 * those segments in the chunklists on disk and continues after them (RenditionRecorder.restore). Any
 * other change is saved before the chunklist is rewritten. Redis away: skipped (the next one carries
 * it all). Refused: the ownership is lost.
 */
export function checkpointSaver(options: {
  registry: DumpRegistry;
  dumpKey: string;
  runId: string;
  /** This run as the registry knows its holder (run-identity.ts). */
  holder: string;
  lease: OwnershipLease;
  /** The run's hooks: the gap events a save carries. */
  hooks: RunHooks | undefined;
  rebuildableIntervalMs?: number;
  now?: () => number;
}): (checkpoint: DumpCheckpoint) => Promise<void> {
  const { registry, dumpKey, runId, holder, lease, hooks } = options;
  const interval = options.rebuildableIntervalMs ?? REBUILDABLE_SAVE_INTERVAL_MS;
  const now = options.now ?? (() => performance.now());
  let lastSaved: DumpCheckpoint | undefined;
  let lastSavedAt = 0;
  return async (checkpoint) => {
    // The gaps this checkpoint records are told with it; until a save goes through they stay
    // pending and go with the next one.
    const gaps = hooks?.pending();
    if (
      gaps === undefined &&
      lastSaved !== undefined &&
      now() - lastSavedAt < interval &&
      rebuildableFromDisk(lastSaved, checkpoint)
    )
      return;
    const startedAt = now();
    const saved = await writePathCall(registry, () =>
      registry.saveCheckpoint(dumpKey, runId, holder, checkpoint, gaps),
    );
    if (saved === true) {
      hooks?.recorded(gaps);
      lastSaved = checkpoint;
      lastSavedAt = startedAt;
    }
    if (saved === false) lease.markLost();
  };
}

/**
 * Whether `next` differs from `saved` only by segments listed after it, one sequence number each:
 * what a restore from `saved` rebuilds from the chunklists on disk.
 */
export function rebuildableFromDisk(saved: DumpCheckpoint, next: DumpCheckpoint): boolean {
  if (next.request !== saved.request || next.renditions.length !== saved.renditions.length)
    return false;
  if (!sameDurationLimit(saved.durationLimit, next.durationLimit)) return false;
  for (let i = 0; i < next.renditions.length; i++) {
    const before = saved.renditions[i]!;
    const after = next.renditions[i]!;
    if (
      after.url !== before.url ||
      after.chunklist !== before.chunklist ||
      after.gaps !== before.gaps ||
      before.lastMsn === undefined ||
      after.lastMsn === undefined ||
      after.lastMsn - before.lastMsn !== after.entryCount - before.entryCount ||
      after.entryCount < before.entryCount ||
      !sameInits(before.inits, after.inits)
    )
      return false;
  }
  return true;
}

function sameDurationLimit(
  a: DumpCheckpoint['durationLimit'],
  b: DumpCheckpoint['durationLimit'],
): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.startMsn === b.startMsn &&
    a.countedThrough === b.countedThrough &&
    a.seconds === b.seconds &&
    a.stopMsn === b.stopMsn
  );
}

function sameInits(a: Record<string, string>, b: Record<string, string>): boolean {
  let count = 0;
  for (const key in b) {
    if (a[key] !== b[key]) return false;
    count++;
  }
  return count === Object.keys(a).length;
}
