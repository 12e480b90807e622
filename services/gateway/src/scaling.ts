import type { Queue } from 'bullmq';

/** What `GET /scaling` answers: the figure an autoscaler (KEDA `metrics-api`) scales workers on. */
export interface ScalingFigure {
  /** Dumps a worker runs now: BullMQ's active dump jobs (a running dump holds its job). */
  dumpsRunning: number;
  /** Dumps waiting for a worker: new starts and dumps handed off (waiting, delayed, prioritized; a paused queue's jobs count as waiting). */
  dumpsQueued: number;
  dumpsWanted: number;
  /** WORKER_CAPACITY: the dumps one worker is meant to hold. */
  workerCapacity: number;
  /** ceil(dumpsWanted / workerCapacity): 0 when there is nothing to dump. */
  workersWanted: number;
}

/** Counts only, from the queue's own O(1) counters: cheap enough to poll every few seconds. */
export async function scalingFigure(queue: Queue, workerCapacity: number): Promise<ScalingFigure> {
  const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
  const dumpsRunning = counts.active ?? 0;
  const dumpsQueued = (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
  const dumpsWanted = dumpsRunning + dumpsQueued;
  return {
    dumpsRunning,
    dumpsQueued,
    dumpsWanted,
    workerCapacity,
    workersWanted: Math.ceil(dumpsWanted / workerCapacity),
  };
}
