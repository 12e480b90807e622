import { z } from 'zod';
import { ProtocolError } from './errors.js';

/**
 * A dump's states and every move between them: the one definition the registry's Lua scripts
 * and the TypeScript both follow. The scripts test states through predicates generated from these
 * lists (`state-lua.ts`), and `dump-state-machine.test.ts` drives every script from every state
 * and checks that the moves they make are exactly `DUMP_TRANSITIONS`. Drawn in
 * docs/architecture.md.
 */
export const DUMP_STATES = [
  'Queued',
  'Starting',
  'Running',
  'Stopping',
  'Completed',
  'Error',
  'Withdrawn',
] as const;
export type DumpState = (typeof DUMP_STATES)[number];

/** Ended: the id and infoFile are free again; the record stays readable until it expires. */
export const FINAL_STATES = ['Completed', 'Error', 'Withdrawn'] as const satisfies DumpState[];
export type FinalState = (typeof FINAL_STATES)[number];

/** A worker holds the dump: only its owner may write to it. */
export const HELD_STATES = ['Starting', 'Running', 'Stopping'] as const satisfies DumpState[];

export const isFinalState = (state: DumpState): state is FinalState =>
  (FINAL_STATES as readonly DumpState[]).includes(state);
export const isHeldState = (state: string | null | undefined): boolean =>
  (HELD_STATES as readonly (string | null | undefined)[]).includes(state);

/**
 * Where each state may go. A record starts Queued (reserved by the gateway), or Running when a
 * worker writes back the record of a dump Redis lost. `Starting` → `Starting` is a takeover
 * (the owner stopped heartbeating); → `Queued` a hand-off with a checkpoint. A final state goes
 * nowhere: a new start of the same id is a new run with a new record.
 */
export const DUMP_TRANSITIONS: Readonly<Record<DumpState, readonly DumpState[]>> = {
  Queued: ['Starting', 'Withdrawn'],
  Starting: ['Starting', 'Running', 'Stopping', 'Queued', 'Completed', 'Error', 'Withdrawn'],
  Running: ['Starting', 'Stopping', 'Queued', 'Completed', 'Error', 'Withdrawn'],
  Stopping: ['Starting', 'Queued', 'Completed', 'Error', 'Withdrawn'],
  Completed: [],
  Error: [],
  Withdrawn: [],
};

export const failureSchema = z.object({ code: z.string(), message: z.string() });
export type DumpFailureInfo = z.infer<typeof failureSchema>;

/**
 * Progress as the worker reports it: the engine's `DumpProgress`, field for field (the worker's
 * `protocol-shapes.test.ts` holds the two together; the engine does not depend on contracts).
 */
export const progressSchema = z.object({
  status: z.string().optional(),
  error: failureSchema.optional(),
  renditions: z.array(
    z.object({
      chunklist: z.string(),
      lastMsn: z.number().optional(),
      segments: z.number(),
      bytes: z.number(),
      gaps: z.number(),
      lagSeconds: z.number().optional(),
    }),
  ),
  filesWritten: z.number(),
  bytesWritten: z.number(),
  gaps: z.number(),
  /** What the dump could not honour in the origin's playlists (the engine's notices). */
  notices: z.array(z.string()).optional(),
  /** Why the dump ended (ENDLIST, gone, stopped...), once it has. */
  endReason: z.string().optional(),
});
export type ProgressSnapshot = z.infer<typeof progressSchema>;

/** Everything the API was asked to do, resolved: what a worker needs to run the dump. */
export interface DumpStartParams {
  vhost: string;
  app: string;
  stream: string;
  outputStreamName: string;
  id: string;
  outputPath: string;
  infoFile?: string;
  userData?: string;
  /** Master playlist names at the origin (at least one). */
  playlists: string[];
  /** The stream's base URL at the origin, ending with `/`. */
  originBaseUrl: string;
  /** Request headers the app's origin requires (origins file). */
  originHeaders?: Record<string, string>;
  /** CA file for the app's HTTPS origin (origins file). */
  originCaFile?: string;
  /** Ours, beyond OME: the dump stops itself, Completed, after this much media. */
  maxDurationSeconds?: number;
  /** Ours: where the dump starts: `live` (OME's), `window`, or an ISO 8601 time. */
  from?: string;
  /** Ours: where this dump's events are POSTed (besides WEBHOOK_URL). */
  callbackUrl?: string;
}

export interface DumpRecord extends DumpStartParams {
  dumpKey: string;
  state: DumpState;
  runId: string;
  jobId: string;
  owner?: string;
  /** A stop was asked for; whoever runs (or resumes) the dump finalizes it. */
  stopRequested: boolean;
  /** The start was withdrawn while a worker was starting it; the worker must not acknowledge. */
  cancel: boolean;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  runningAt?: number;
  endedAt?: number;
  heartbeatAt?: number;
  progress?: ProgressSnapshot;
  error?: DumpFailureInfo;
  /** The engine's checkpoint as JSON, present after a hand-off. */
  checkpoint?: string;
  /** Runs in a row that died with their worker (taken over); a hand-off resets it. */
  crashes?: number;
}

/** Hash fields written at reserve time. */
export function startParamsToFields(params: DumpStartParams): Record<string, string> {
  const fields: Record<string, string> = {
    vhost: params.vhost,
    app: params.app,
    stream: params.stream,
    outputStreamName: params.outputStreamName,
    id: params.id,
    outputPath: params.outputPath,
    playlists: JSON.stringify(params.playlists),
    originBaseUrl: params.originBaseUrl,
  };
  if (params.infoFile !== undefined) fields.infoFile = params.infoFile;
  if (params.userData !== undefined) fields.userData = params.userData;
  if (params.originHeaders !== undefined)
    fields.originHeaders = JSON.stringify(params.originHeaders);
  if (params.originCaFile !== undefined) fields.originCaFile = params.originCaFile;
  if (params.maxDurationSeconds !== undefined)
    fields.maxDurationSeconds = String(params.maxDurationSeconds);
  if (params.from !== undefined) fields.from = params.from;
  if (params.callbackUrl !== undefined) fields.callbackUrl = params.callbackUrl;
  return fields;
}

const stateSchema = z.enum(DUMP_STATES);
// Built once: a zod schema costs tens of microseconds to construct, far more than a parse.
const playlistsSchema = z.array(z.string());
const headersSchema = z.record(z.string(), z.string());
const num = (value: string | undefined): number | undefined =>
  value === undefined || value === '' ? undefined : Number(value);

function parseJson<T>(
  schema: z.ZodType<T>,
  value: string | undefined,
  what: string,
): T | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return schema.parse(JSON.parse(value));
  } catch (error) {
    throw new ProtocolError(`dump record field ${what} is malformed: ${(error as Error).message}`);
  }
}

/** Reads a record from its hash (HGETALL); null when the hash is empty (no such dump). */
export function recordFromHash(dumpKey: string, hash: Record<string, string>): DumpRecord | null {
  if (Object.keys(hash).length === 0) return null;
  const required = (name: string): string => {
    const value = hash[name];
    if (value === undefined) throw new ProtocolError(`dump record ${dumpKey} has no ${name}`);
    return value;
  };
  const state = stateSchema.safeParse(hash.state);
  if (!state.success)
    throw new ProtocolError(`dump record ${dumpKey} has an unknown state ${hash.state}`);
  const record: DumpRecord = {
    dumpKey,
    vhost: required('vhost'),
    app: required('app'),
    stream: required('stream'),
    outputStreamName: required('outputStreamName'),
    id: required('id'),
    outputPath: required('outputPath'),
    playlists: parseJson(playlistsSchema, hash.playlists, 'playlists') ?? [],
    originBaseUrl: required('originBaseUrl'),
    state: state.data,
    runId: required('runId'),
    jobId: required('jobId'),
    stopRequested: hash.stopRequested === '1',
    cancel: hash.cancel === '1',
    createdAt: num(hash.createdAt) ?? 0,
    updatedAt: num(hash.updatedAt) ?? 0,
  };
  if (hash.infoFile !== undefined) record.infoFile = hash.infoFile;
  if (hash.userData !== undefined) record.userData = hash.userData;
  const originHeaders = parseJson(headersSchema, hash.originHeaders, 'originHeaders');
  if (originHeaders) record.originHeaders = originHeaders;
  if (hash.originCaFile) record.originCaFile = hash.originCaFile;
  if (hash.owner) record.owner = hash.owner;
  const maxDurationSeconds = num(hash.maxDurationSeconds);
  if (maxDurationSeconds !== undefined) record.maxDurationSeconds = maxDurationSeconds;
  if (hash.from !== undefined) record.from = hash.from;
  if (hash.callbackUrl !== undefined) record.callbackUrl = hash.callbackUrl;
  const optionalNumbers = ['startedAt', 'runningAt', 'endedAt', 'heartbeatAt', 'crashes'] as const;
  for (const name of optionalNumbers) {
    const value = num(hash[name]);
    if (value !== undefined) record[name] = value;
  }
  const progress = parseJson(progressSchema, hash.progress, 'progress');
  if (progress) record.progress = progress;
  const error = parseJson(failureSchema, hash.error, 'error');
  if (error) record.error = error;
  if (hash.checkpoint) record.checkpoint = hash.checkpoint;
  return record;
}
