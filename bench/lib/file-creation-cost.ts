// The kernel CPU one file creation costs on a file system. hlsdump writes every segment as a file
// of its own, as OME's dump does; the ffmpeg peer writes one MPEG-TS file per stream. On a disk
// where creating a file is dear, that alone sets part of the gap between them.
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Microseconds of system CPU per file created (open O_CREAT|O_EXCL, then close) under `dir`. */
export function fileCreationCostUs(dir: string, files = 300): number {
  const scratch = mkdtempSync(join(dir, '.creation-cost-'));
  try {
    const before = process.cpuUsage();
    for (let i = 0; i < files; i++) closeSync(openSync(join(scratch, `f${i}`), 'wx'));
    return process.cpuUsage(before).system / files;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
