// The machine a run is made on, for the results file.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { machineLines } from '../test/support/machine.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: string;
  os: string;
  node: string;
  ffmpeg: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadavg: number[];
}

export function machine(): Machine {
  const lines = machineLines();
  let ffmpeg = 'ffmpeg not found';
  try {
    const version = execFileSync('/usr/bin/ffmpeg', ['-version']).toString();
    ffmpeg = /ffmpeg version \S+/.exec(version)?.[0] ?? 'ffmpeg';
  } catch {
    // No ffmpeg on this machine: the side-by-side phase runs without peers.
  }
  return {
    cpu: lines.cpu,
    cores: lines.cores,
    memGiB: lines.memoryGiB.toFixed(1),
    os: `${lines.os} (${os.type()} ${os.release()}, ${os.arch()})`,
    node: process.version,
    ffmpeg,
    loadavg: os.loadavg(),
  };
}
