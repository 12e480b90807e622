import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RenditionId } from '@hlsdump/test-origin';
import { baseName, readChunklist } from '../support/dump-kit.js';
import { readInfoFile } from '../support/info-file-check.js';
import type { Kill } from './kill-loop.js';
import { P, TEMP_FILE } from './soak-params.js';
import { renditionIds, type Soaked } from './soak-run.js';

export interface RenditionCheck {
  dump: string;
  rendition: string;
  first?: number;
  last?: number;
  expected: number;
  written: number;
  duplicates: number;
  outOfOrder: number;
  missing: number;
  missingMsns: number[];
  statusGaps?: number;
  statusSegments?: number;
  discontinuities: number;
  endlist: boolean;
  bytesChecked: number;
  bytesBad: number;
  timingBad: number;
  behindEdgeAtStop?: number;
}

export interface InfoCheck {
  dump: string;
  status: string;
  items: number;
  seqContinuous: boolean;
  missingFiles: number;
  unlisted: string[];
  segmentItemsTwice: number;
}

/**
 * Checks every dump against the origin once it is stopped: per rendition its chunklist (segments
 * expected vs written, duplicates, order, gaps against the status's count, timing, bytes), then
 * its infoFile. Whatever is wrong goes to `problems`; the figures are returned for the report.
 */
export async function verifySoakedDumps(
  soaked: Soaked[],
  kills: Kill[],
  problems: string[],
): Promise<{ renditionChecks: RenditionCheck[]; infoChecks: InfoCheck[] }> {
  const renditionChecks: RenditionCheck[] = [];
  const infoChecks: InfoCheck[] = [];
  for (const d of soaked) {
    const name = d.dump.stream;
    // Segments around a kill are byte-compared whatever P.bytesEvery says.
    const killRanges = kills.flatMap((k) =>
      k.msnAtKill[name] === undefined
        ? []
        : [[k.msnAtKill[name]! - 5, (k.edgeAtTakeover[name] ?? k.msnAtKill[name]!) + 5] as const],
    );
    const segmentFiles = new Set<string>();
    for (const r of renditionIds(d.stream))
      renditionChecks.push(await verifyRendition(d, r, killRanges, segmentFiles, problems));
    // The same first MSN on every rendition: a dump starts at one live edge.
    const firsts = new Set(renditionChecks.filter((x) => x.dump === name).map((x) => x.first));
    if (firsts.size !== 1)
      problems.push(`${name}: renditions start at different MSNs ${[...firsts].join(',')}`);
    infoChecks.push(await verifyInfoFile(d, segmentFiles, problems));
  }
  return { renditionChecks, infoChecks };
}

/** One rendition's chunklist and files; adds the segment files it lists to `segmentFiles`. */
async function verifyRendition(
  d: Soaked,
  r: RenditionId,
  killRanges: (readonly [number, number])[],
  segmentFiles: Set<string>,
  problems: string[],
): Promise<RenditionCheck> {
  const name = d.dump.stream;
  const chunklist = baseName(d.stream.chunklistUrl(r));
  const check: RenditionCheck = {
    dump: name,
    rendition: r,
    expected: 0,
    written: 0,
    duplicates: 0,
    outOfOrder: 0,
    missing: 0,
    missingMsns: [],
    discontinuities: 0,
    endlist: false,
    bytesChecked: 0,
    bytesBad: 0,
    timingBad: 0,
  };
  const statusRendition = d.final?.renditions.find((x) => x.chunklist === chunklist);
  check.statusGaps = statusRendition?.gaps;
  check.statusSegments = statusRendition?.segments;
  let text: string;
  let details: Awaited<ReturnType<typeof readChunklist>>['details'];
  try {
    ({ text, details } = await readChunklist(join(d.dump.outputPath, chunklist)));
  } catch (error) {
    problems.push(`${name} ${r}: chunklist unreadable: ${String(error)}`);
    return check;
  }
  check.endlist = text.trimEnd().endsWith('#EXT-X-ENDLIST');
  check.discontinuities = details.segments.filter((s) => s.discontinuity).length;
  const msns: number[] = [];
  for (const segment of details.segments) {
    const file = baseName(segment.uri);
    segmentFiles.add(join(d.dump.outputPath, file));
    const msn = Number(/^seg_\d+_(\d+)_/.exec(file)?.[1] ?? NaN);
    if (!Number.isInteger(msn) || file !== baseName(d.stream.segmentUrl(r, msn))) {
      problems.push(`${name} ${r}: ${file} is no segment of the origin stream`);
      continue;
    }
    if (msns.length > 0 && msn <= msns.at(-1)!) check.outOfOrder++;
    msns.push(msn);
    if (
      Math.abs(segment.duration - d.stream.segmentDuration(r, msn)) > 1e-3 ||
      Date.parse(segment.programDateTime ?? '') !== d.stream.programDateTime(r, msn).getTime()
    )
      check.timingBad++;
    const nearKill = killRanges.some(([a, b]) => msn >= a && msn <= b);
    if (nearKill || (msn - (msns[0] ?? 0)) % P.bytesEvery === 0) {
      check.bytesChecked++;
      try {
        const bytes = await readFile(join(d.dump.outputPath, file));
        if (!bytes.equals(d.stream.segmentBytes(r, msn))) check.bytesBad++;
      } catch {
        check.bytesBad++;
      }
    }
  }
  check.written = msns.length;
  if (msns.length > 0) {
    check.first = Math.min(...msns);
    check.last = Math.max(...msns);
    check.expected = check.last - check.first + 1;
    const seen = new Set(msns);
    check.duplicates = msns.length - seen.size;
    for (let m = check.first; m <= check.last; m++) if (!seen.has(m)) check.missingMsns.push(m);
    check.missing = check.missingMsns.length;
    check.behindEdgeAtStop = d.edgeAtStop[r]! - check.last;
  }
  const initName = baseName(d.stream.initUrl(r));
  const init = await readFile(join(d.dump.outputPath, initName)).catch(() => undefined);
  if (!init?.equals(d.stream.initBytes(r)))
    problems.push(`${name} ${r}: init segment differs from the origin's`);

  const where = `${name} ${r}`;
  if (check.duplicates > 0)
    problems.push(`${where}: ${check.duplicates} duplicate segments in the chunklist`);
  if (check.outOfOrder > 0) problems.push(`${where}: ${check.outOfOrder} segments out of order`);
  if (check.missing !== (check.statusGaps ?? 0))
    problems.push(
      `${where}: ${check.missing} MSNs missing in the chunklist but the status counts ${check.statusGaps} gaps (missing: ${check.missingMsns.slice(0, 20).join(',')})`,
    );
  if (check.missing > 0)
    problems.push(
      `${where}: ${check.missing} segments missing although the origin window (${P.windowSegments}) covers the failover: ${check.missingMsns.slice(0, 20).join(',')}`,
    );
  if (check.statusSegments !== undefined && check.statusSegments !== check.written)
    problems.push(
      `${where}: status says ${check.statusSegments} segments, the chunklist lists ${check.written}`,
    );
  if (!check.endlist) problems.push(`${where}: chunklist does not end with ENDLIST`);
  if (check.bytesBad > 0)
    problems.push(`${where}: ${check.bytesBad} segments differ from the origin's bytes`);
  if (check.timingBad > 0)
    problems.push(`${where}: ${check.timingBad} segments with a wrong EXTINF or PDT`);
  if (check.discontinuities !== countRuns(check.missingMsns))
    problems.push(
      `${where}: ${check.discontinuities} discontinuities for ${countRuns(check.missingMsns)} gaps`,
    );
  if ((check.behindEdgeAtStop ?? 0) > 3)
    problems.push(
      `${where}: the last dumped segment was ${check.behindEdgeAtStop} behind the origin's edge at the stop`,
    );
  return check;
}

/** The dump's infoFile: Completed, Seq 0..n-1, every file listed once, nothing else in outputPath. */
async function verifyInfoFile(
  d: Soaked,
  segmentFiles: Set<string>,
  problems: string[],
): Promise<InfoCheck> {
  const name = d.dump.stream;
  const info: InfoCheck = {
    dump: name,
    status: '?',
    items: 0,
    seqContinuous: false,
    missingFiles: 0,
    unlisted: [],
    segmentItemsTwice: 0,
  };
  try {
    const doc = await readInfoFile(d.dump.infoFile!);
    info.status = doc.status;
    info.items = doc.items.length;
    info.seqContinuous = doc.items.every((item, index) => item.seq === index);
    const listed = new Map<string, number>();
    for (const item of doc.items) {
      listed.set(item.file, (listed.get(item.file) ?? 0) + 1);
      if (!existsSync(item.file)) info.missingFiles++;
    }
    for (const file of segmentFiles) if ((listed.get(file) ?? 0) > 1) info.segmentItemsTwice++;
    for (const file of await readdir(d.dump.outputPath))
      if (!listed.has(join(d.dump.outputPath, file))) info.unlisted.push(file);
    const notListed = [...segmentFiles].filter((f) => !listed.has(f)).length;
    if (notListed > 0)
      problems.push(`${name}: ${notListed} chunklist segments have no infoFile Item`);
  } catch (error) {
    problems.push(`${name}: infoFile unreadable: ${String(error)}`);
  }
  if (info.status !== 'Completed') problems.push(`${name}: infoFile status ${info.status}`);
  if (!info.seqContinuous) problems.push(`${name}: infoFile Seq not 0..n-1`);
  if (info.missingFiles > 0)
    problems.push(`${name}: ${info.missingFiles} infoFile Items name files that do not exist`);
  const temps = info.unlisted.filter((f) => TEMP_FILE.test(f));
  const others = info.unlisted.filter((f) => !TEMP_FILE.test(f));
  if (temps.length > 0)
    problems.push(
      `${name}: ${temps.length} temporary files of interrupted writes left in outputPath, not in the infoFile: ${temps.slice(0, 5).join(', ')}`,
    );
  if (others.length > 0)
    problems.push(
      `${name}: ${others.length} files in outputPath not in the infoFile: ${others.slice(0, 5).join(', ')}`,
    );
  if (info.segmentItemsTwice > 0)
    problems.push(`${name}: ${info.segmentItemsTwice} segment files listed twice in the infoFile`);
  return info;
}

/** Runs of consecutive numbers in a sorted list: the gaps a chunklist marks with a discontinuity each. */
function countRuns(sorted: number[]): number {
  let runs = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]! + 1) runs++;
  return runs;
}
