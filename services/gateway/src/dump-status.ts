import type { DumpRecord } from '@hlsdump/contracts';

/** A dump as the list and status endpoints show it (its `status` is the registry's `DumpState`). */
export interface DumpStatusView {
  id: string;
  /** Which start of the id (ours: a reused id lists each run). */
  runId: string;
  vhost: string;
  app: string;
  stream: string;
  outputStreamName: string;
  outputPath: string;
  infoFile?: string;
  userData?: string;
  playlist: string[];
  status: string;
  owner?: string;
  stopRequested: boolean;
  createdAt: string;
  startedAt?: string;
  runningAt?: string;
  endedAt?: string;
  heartbeatAt?: string;
  renditions: {
    chunklist: string;
    lastSequence?: number;
    segments: number;
    bytes: number;
    gaps: number;
    lagSeconds?: number;
  }[];
  segments: number;
  bytes: number;
  filesWritten: number;
  gaps: number;
  /** The largest lag of any rendition behind the origin's live edge, in seconds. */
  lagSeconds?: number;
  error?: { code: string; message: string };
  /** What the dump could not honour in the origin's playlists. */
  notices?: string[];
  /** Ours: the start's extensions, and why an ended dump ended. */
  maxDurationSeconds?: number;
  from?: string;
  callbackUrl?: string;
  endReason?: string;
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

export function dumpStatus(record: DumpRecord): DumpStatusView {
  const progress = record.progress;
  const renditions = (progress?.renditions ?? []).map((r) => ({
    chunklist: r.chunklist,
    ...(r.lastMsn !== undefined && { lastSequence: r.lastMsn }),
    segments: r.segments,
    bytes: r.bytes,
    gaps: r.gaps,
    ...(r.lagSeconds !== undefined && { lagSeconds: r.lagSeconds }),
  }));
  const lags = renditions.flatMap((r) => (r.lagSeconds === undefined ? [] : [r.lagSeconds]));
  const status: DumpStatusView = {
    id: record.id,
    runId: record.runId,
    vhost: record.vhost,
    app: record.app,
    stream: record.stream,
    outputStreamName: record.outputStreamName,
    outputPath: record.outputPath,
    playlist: record.playlists,
    status: record.state,
    stopRequested: record.stopRequested,
    createdAt: new Date(record.createdAt).toISOString(),
    renditions,
    segments: renditions.reduce((sum, r) => sum + r.segments, 0),
    bytes: progress?.bytesWritten ?? renditions.reduce((sum, r) => sum + r.bytes, 0),
    filesWritten: progress?.filesWritten ?? 0,
    gaps: progress?.gaps ?? renditions.reduce((sum, r) => sum + r.gaps, 0),
  };
  if (record.infoFile !== undefined) status.infoFile = record.infoFile;
  if (record.userData !== undefined) status.userData = record.userData;
  if (record.owner !== undefined) status.owner = record.owner;
  for (const field of ['startedAt', 'runningAt', 'endedAt', 'heartbeatAt'] as const) {
    const value = iso(record[field]);
    if (value !== undefined) status[field] = value;
  }
  if (progress?.notices !== undefined && progress.notices.length > 0)
    status.notices = progress.notices;
  if (lags.length > 0) status.lagSeconds = Math.max(...lags);
  const error = record.error ?? progress?.error;
  if (error) status.error = error;
  if (record.maxDurationSeconds !== undefined)
    status.maxDurationSeconds = record.maxDurationSeconds;
  if (record.from !== undefined) status.from = record.from;
  if (record.callbackUrl !== undefined) status.callbackUrl = record.callbackUrl;
  if (progress?.endReason !== undefined) status.endReason = progress.endReason;
  return status;
}
