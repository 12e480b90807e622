/**
 * A dump's event as its receivers get it (docs/api.md#events): one JSON object per state change, POSTed to
 * the dump's `callbackUrl` and/or `WEBHOOK_URL`. `sequence` counts a dump's events from 1, over
 * every run of its id, so a receiver can put them in order and drop repeats.
 */
export type DumpNotificationType = 'running' | 'gap' | 'completed' | 'error';

export interface DumpNotification {
  sequence: number;
  type: DumpNotificationType;
  id: string;
  vhost: string;
  app: string;
  stream: string;
  outputStreamName: string;
  /** Which start of the id this is (an id can be reused once its dump ended). */
  runId: string;
  status: 'Running' | 'Completed' | 'Error';
  counts: { segments: number; bytes: number; files: number; gaps: number };
  /** Why: the end reason (stopped, maxDurationSeconds, ENDLIST...), the error, or the gap's cause. */
  reason?: string;
  userData?: string;
  /** When the change happened, ISO 8601. */
  time: string;
  /**
   * `gap` only: the rendition, the origin's media sequence number of the first segment given up,
   * and how many in a row (a stretch lost at once, such as the window moving on, is one event).
   */
  gap?: { chunklist: string; msn: number; count: number };
  error?: { code: string; message: string };
}
