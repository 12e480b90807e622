import { z } from 'zod';
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
