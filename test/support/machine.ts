import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The machine a run was made on, for the results file. */
export function machineLines(): { cpu: string; cores: number; memoryGiB: number; os: string } {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const osRelease = safeRead('/etc/os-release');
  const memTotalKb = Number(/^MemTotal:\s+(\d+)/m.exec(safeRead('/proc/meminfo'))?.[1] ?? 0);
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    memoryGiB: Math.round((memTotalKb / 1024 / 1024) * 10) / 10,
    os: /^PRETTY_NAME="?([^"\n]+)"?/m.exec(osRelease)?.[1] ?? 'unknown',
  };
}

/** The machine in full, for a benchmark's results: also the kernel, Node, ffmpeg and the load. */
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
    // No ffmpeg on this machine: said so in the results.
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

/** One line naming the machine: CPU, cores, memory, OS, Node, ffmpeg. */
export function machineSummary(m: Machine = machine()): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB RAM, ${m.os}, Node ${m.node}, ${m.ffmpeg}`;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
