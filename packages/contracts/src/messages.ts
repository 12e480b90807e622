import { z } from 'zod';
import { failureSchema } from './dump-record.js';

/**
 * Published on a dump's event channel by whoever changes its state (the engine's in-process events
 * are `EngineEvent`).
 */
export const dumpEventSchema = z.object({
  type: z.enum(['running', 'stopped', 'error', 'withdrawn']),
  dumpKey: z.string(),
  runId: z.string(),
  owner: z.string().optional(),
  /** The record's state after the event (`Completed` / `Error` for `stopped`). */
  state: z.string().optional(),
  error: failureSchema.optional(),
});
export type DumpEventMessage = z.infer<typeof dumpEventSchema>;

/** Published on a worker's control channel by the gateway. */
export const workerControlSchema = z.object({
  type: z.enum(['stop', 'cancel']),
  dumpKey: z.string(),
  runId: z.string(),
});
export type WorkerControlMessage = z.infer<typeof workerControlSchema>;

/** Parses a pub/sub payload; null for anything malformed (a stray publisher must not crash us). */
export function parseMessage<T>(schema: z.ZodType<T>, payload: string): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
