// Reads what the dumps wrote: every infoFile Item that lists a media segment, with the origin's
// completion time of that segment, so lag = Item <Time> - completion.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseInfoFile } from '@hlsdump/info-file';

// The origin's names, kept by the dump (OME layout): seg_<track>_<msn>_<type>_<key>_llhls.m4s
const SEGMENT = /^seg_(\d+)_(\d+)_/;

/**
 * For each dump ({stream, infoFile}), the segment Items: {stream, track, msn, itemMs, file}.
 * Also counts every Item by kind.
 */
export async function readSegmentItems(dumps) {
  const items = [];
  const counts = { items: 0, segments: 0, chunklists: 0, other: 0, status: {} };
  for (const dump of dumps) {
    let doc;
    try {
      doc = parseInfoFile(await readFile(dump.infoFile, 'utf8'));
    } catch (error) {
      counts.status[`unreadable: ${error.message}`] =
        (counts.status[`unreadable: ${error.message}`] ?? 0) + 1;
      continue;
    }
    counts.status[doc.status] = (counts.status[doc.status] ?? 0) + 1;
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
export async function addCompletion(origin, items) {
  const batch = 5000;
  for (let i = 0; i < items.length; i += batch) {
    const slice = items.slice(i, i + batch);
    const times = await origin.call('completedAt', {
      queries: slice.map((it) => [it.stream, it.track, it.msn]),
    });
    slice.forEach((it, j) => {
      it.completedMs = times[j];
      it.lagMs = it.itemMs - times[j];
    });
  }
  return items;
}

export async function fileBytes(items) {
  let bytes = 0;
  for (const it of items) {
    try {
      bytes += (await stat(it.file)).size;
    } catch {
      /* removed */
    }
  }
  return bytes;
}
