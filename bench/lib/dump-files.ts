// Reads what the dumps wrote: every infoFile Item that lists a media segment, with the origin's
// completion time of that segment, so lag = Item <Time> - completion.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseInfoFile } from '@hlsdump/info-file';
import type { OriginHost } from './origin-host.ts';

// The origin's names, kept by the dump (OME layout): seg_<track>_<msn>_<type>_<key>_llhls.m4s
const SEGMENT = /^seg_(\d+)_(\d+)_/;

/** A dump the bench started, as the phases track it. */
export interface BenchDump {
  stream: string;
  id: string;
  app: string;
  outputPath: string;
  infoFile: string;
  /** When its start was sent (epoch ms). */
  requestedAt?: number;
  stopRequestedAt?: number;
  startMs?: number;
  stopMs?: number;
  /** The capacity step it was started in. */
  step?: number;
}

export interface SegmentItem {
  stream: string;
  track: number;
  msn: number;
  itemMs: number;
  file: string;
  requestedAt: number;
  step: number;
  completedMs?: number;
  lagMs?: number;
}

export interface ItemCounts {
  items: number;
  segments: number;
  chunklists: number;
  other: number;
  /** infoFiles by Status (or why they could not be read). */
  status: Record<string, number>;
}

/** For each dump, the segment Items; also counts every Item by kind. */
export async function readSegmentItems(
  dumps: readonly BenchDump[],
): Promise<{ items: SegmentItem[]; counts: ItemCounts }> {
  const items: SegmentItem[] = [];
  const counts: ItemCounts = { items: 0, segments: 0, chunklists: 0, other: 0, status: {} };
  const tally = (key: string) => (counts.status[key] = (counts.status[key] ?? 0) + 1);
  for (const dump of dumps) {
    let doc;
    try {
      doc = parseInfoFile(await readFile(dump.infoFile, 'utf8'));
    } catch (error) {
      tally(`unreadable: ${(error as Error).message}`);
      continue;
    }
    tally(doc.status);
    for (const item of doc.items) {
      counts.items++;
      const name = basename(item.file);
      const m = SEGMENT.exec(name);
      if (m) {
        counts.segments++;
        items.push({
          stream: dump.stream,
          track: Number(m[1]),
          msn: Number(m[2]),
          itemMs: Date.parse(item.time),
          file: item.file,
          // A dump's first segment is the live edge as it starts, complete before the start request:
          // its lag says how long a start takes, not how far behind a running dump is.
          requestedAt: dump.requestedAt ?? 0,
          step: dump.step ?? 0,
        });
      } else if (name.endsWith('.m3u8')) counts.chunklists++;
      else counts.other++;
    }
  }
  return { items, counts };
}

/** Adds completedMs and lagMs to each item, asking the origin process in batches. */
export async function addCompletion(origin: OriginHost, items: SegmentItem[]): Promise<void> {
  const batch = 5000;
  for (let i = 0; i < items.length; i += batch) {
    const slice = items.slice(i, i + batch);
    const times = await origin.call('completedAt', {
      queries: slice.map((it) => [it.stream, it.track, it.msn]),
    });
    slice.forEach((it, j) => {
      const completed = times[j];
      if (completed === null || completed === undefined) return;
      it.completedMs = completed;
      it.lagMs = it.itemMs - completed;
    });
  }
}

/** Items whose origin completion time is known. */
export function completed(
  items: readonly SegmentItem[],
): (SegmentItem & { completedMs: number; lagMs: number })[] {
  return items.filter(
    (it): it is SegmentItem & { completedMs: number; lagMs: number } =>
      it.completedMs !== undefined && it.lagMs !== undefined,
  );
}

/** Total size of the files the items list (files removed since count 0). */
export async function fileBytes(items: readonly SegmentItem[]): Promise<number> {
  let bytes = 0;
  for (const it of items) {
    try {
      bytes += (await stat(it.file)).size;
    } catch {
      // Removed.
    }
  }
  return bytes;
}
