import { createHash, randomBytes } from 'node:crypto';

/** What names a dump in the API: OME's (vhost, app, outputStreamName, id). */
export interface DumpIdentity {
  vhost: string;
  app: string;
  outputStreamName: string;
  id: string;
}

/** A fixed-length, Redis- and BullMQ-safe key for a dump identity (32 hex chars of a sha256). */
export function dumpKeyOf(identity: DumpIdentity): string {
  const canonical = JSON.stringify([
    identity.vhost,
    identity.app,
    identity.outputStreamName,
    identity.id,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** A fresh id for one start of a dump; an id can be reused after its dump ended. */
export function newRunId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * The BullMQ job id of one run. Unique per start because BullMQ silently ignores `add` with an
 * existing job id; never contains `:` (BullMQ forbids it in custom ids).
 */
export function jobIdFor(dumpKey: string, runId: string): string {
  return `dump-${dumpKey}-${runId}`;
}
