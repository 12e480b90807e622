import type { Redis } from 'ioredis';
import type { RegistryKeys } from './keys.js';
import type { DumpEventMessage, WorkerControlMessage } from './messages.js';

/** Tells everyone waiting on a dump (start and stop requests) what happened to it. */
export async function publishDumpEvent(
  redis: Redis,
  keys: RegistryKeys,
  event: DumpEventMessage,
): Promise<number> {
  return redis.publish(keys.events(event.dumpKey), JSON.stringify(event));
}

/** Tells one worker to stop or cancel one of its dumps. Returns how many subscribers got it. */
export async function publishWorkerControl(
  redis: Redis,
  keys: RegistryKeys,
  workerId: string,
  message: WorkerControlMessage,
): Promise<number> {
  return redis.publish(keys.worker(workerId), JSON.stringify(message));
}
