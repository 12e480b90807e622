import type { JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import type { DumpRecord } from './dump-record.js';
import { ProtocolError } from './errors.js';

/** BullMQ job name of a dump. */
export const DUMP_JOB_NAME = 'dump';
export const DEFAULT_QUEUE_NAME = 'hlsdump-dumps';

/**
 * A job carries only the dump's key and run: the record in Redis is the one source of truth for
 * the parameters, so a job can never start a dump whose record says otherwise.
 */
export const dumpJobDataSchema = z.object({
  dumpKey: z.string().regex(/^[0-9a-f]{32}$/),
  runId: z.string().regex(/^[0-9a-f]{16}$/),
});
export type DumpJobData = z.infer<typeof dumpJobDataSchema>;

export function parseDumpJobData(data: unknown): DumpJobData {
  const parsed = dumpJobDataSchema.safeParse(data);
  if (!parsed.success) throw new ProtocolError(`malformed dump job data: ${parsed.error.message}`);
  return parsed.data;
}

/** A dump job as BullMQ takes it: its name, its data and its options. */
export interface DumpJob {
  name: typeof DUMP_JOB_NAME;
  data: DumpJobData;
  opts: JobsOptions;
}

/** The identity of a dump's run, as its record holds it. */
type RunIdentity = Pick<DumpRecord, 'dumpKey' | 'runId' | 'jobId'>;

/**
 * The job of a dump's run, added by the gateway once the dump is reserved. One attempt: a run that
 * dies is taken over through its record, never retried by BullMQ. It stays listed an hour after it
 * completes and a day after it fails, for whoever inspects the queue.
 */
export function startJob(run: RunIdentity): DumpJob {
  return {
    name: DUMP_JOB_NAME,
    data: { dumpKey: run.dumpKey, runId: run.runId },
    opts: {
      jobId: run.jobId,
      attempts: 1,
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 86_400 },
    },
  };
}

/**
 * The job a worker puts back after Redis lost the run's original one (and its record) while the
 * dump kept running: it waits `delayMs` (the lock duration) and then lets another worker take the
 * dump over should its owner have died. It stands in for the lost job, so it leaves the queue once
 * done rather than being listed.
 */
export function watchdogJob(run: RunIdentity, delayMs: number): DumpJob {
  return {
    name: DUMP_JOB_NAME,
    data: { dumpKey: run.dumpKey, runId: run.runId },
    opts: { jobId: run.jobId, delay: delayMs, removeOnComplete: true, removeOnFail: true },
  };
}

/** Adds the job to the dumps' queue: the one way a dump job enters it. */
export async function addDumpJob(queue: Queue<DumpJobData>, job: DumpJob): Promise<void> {
  await queue.add(job.name, job.data, job.opts);
}
