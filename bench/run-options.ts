// The bench's flags and presets (see bench/README.md).
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const PHASES = ['info', 'main', 'api', 'limit', 'capacity', 'memory'] as const;
export type PhaseName = (typeof PHASES)[number];

export interface RunOptions {
  preset: string;
  streams: number;
  workers: number;
  seconds: number;
  speed: number;
  warmup: number;
  apiStarts: number;
  /** Warm bursts of the api phase, after its cold one. */
  apiBursts: number;
  capacitySteps: number[];
  stepSeconds: number;
  settle: number;
  memStreams: number;
  memSpeed: number;
  memMediaSeconds: number;
  limitSeconds: number;
  infoItems: number;
  infoNaive: number;
  /** Complete segments each playlist of the main phase's origin lists (`--origin-window`). */
  originWindow: number;
  ffmpeg: boolean;
  /** Loop peers in the main phase (`--no-loop` leaves them out). */
  loop: boolean;
  aligned: boolean;
  heapSnapshots: boolean;
  profile: boolean;
  /** Node flags for the workers of the side-by-side, api and capacity phases (`--worker-flag`, repeated). */
  workerFlags: string[];
  /**
   * Environment for every worker the run starts (`--worker-env NAME=VALUE`,
   * repeated): a libuv or Node setting read from the environment (`UV_THREADPOOL_SIZE`).
   */
  workerEnv: string[];
  /**
   * Node flags for the second half of the main phase's workers only (`--worker-b-flag`, repeated):
   * a V8 setting measured against none, side by side on the same streams in one run.
   */
  workerBFlags: string[];
  /** `--worker-b-tree`: the second half of those workers run this tree's build (a worktree). */
  workerBTree: string | undefined;
  keep: boolean;
  skip: Set<string>;
  results: string;
  /** The whole run's bound, seconds. */
  hardLimitS: number;
}

type Preset = Record<
  | 'streams'
  | 'workers'
  | 'seconds'
  | 'warmup'
  | 'speed'
  | 'api-starts'
  | 'api-bursts'
  | 'capacity-steps'
  | 'step-seconds'
  | 'settle'
  | 'mem-streams'
  | 'mem-speed'
  | 'mem-media-seconds'
  | 'limit-seconds'
  | 'info-items'
  | 'info-naive'
  | 'origin-window',
  number | string
>;

const PRESETS: Record<string, Preset> = {
  default: {
    streams: 8,
    workers: 2,
    seconds: 45,
    warmup: 10,
    speed: 1,
    'api-starts': 100,
    'api-bursts': 3,
    'capacity-steps': '30,90,150,210',
    'step-seconds': 15,
    settle: 6,
    'mem-streams': 2,
    'mem-speed': 60,
    'mem-media-seconds': 3600,
    'limit-seconds': 10,
    'info-items': 100_000,
    'info-naive': 2_000,
    'origin-window': 10,
  },
  full: {
    streams: 20,
    workers: 2,
    // Long enough for the workers' cost per segment to settle: it falls for about 10 minutes at
    // 12 renditions per worker, then holds.
    seconds: 1200,
    warmup: 20,
    speed: 1,
    'api-starts': 100,
    'api-bursts': 3,
    'capacity-steps': '60,120,180,240,300,360,450',
    'step-seconds': 40,
    settle: 10,
    'mem-streams': 4,
    'mem-speed': 20,
    'mem-media-seconds': 3600,
    'limit-seconds': 20,
    'info-items': 100_000,
    'info-naive': 10_000,
    'origin-window': 10,
  },
};

export const USAGE = `usage: npm run bench -- [--preset default|full] [--streams K] [--workers W] [--seconds T]
  [--speed S] [--warmup S] [--api-starts N] [--api-bursts B] [--capacity-steps R1,R2,...]
  [--step-seconds S] [--settle S] [--mem-streams M] [--mem-speed X] [--mem-media-seconds S] [--limit-seconds S]
  [--info-items N] [--info-naive N] [--origin-window N] [--skip ${PHASES.join(',')}] [--no-ffmpeg] [--no-loop] [--aligned]
  [--heap-snapshots] [--profile] [--worker-flag FLAG ...] [--worker-env NAME=VALUE ...] [--worker-b-flag FLAG ...] [--worker-b-tree PATH] [--keep] [--results FILE]`;

/** The options of this run, or undefined when only the usage was asked for (printed). */
export function parseRunOptions(argv: string[], defaultResults: string): RunOptions | undefined {
  const numeric = (name: string) => [name, { type: 'string' }] as const;
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string', default: 'default' },
      ...Object.fromEntries(Object.keys(PRESETS.default!).map(numeric)),
      skip: { type: 'string', default: '' },
      'no-ffmpeg': { type: 'boolean', default: false },
      'no-loop': { type: 'boolean', default: false },
      aligned: { type: 'boolean', default: false },
      'heap-snapshots': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'worker-flag': { type: 'string', multiple: true, default: [] },
      'worker-env': { type: 'string', multiple: true, default: [] },
      'worker-b-flag': { type: 'string', multiple: true, default: [] },
      'worker-b-tree': { type: 'string' },
      keep: { type: 'boolean', default: false },
      results: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const presetName = String(values.preset);
  const preset = PRESETS[presetName];
  if (!preset) throw new Error(`unknown preset ${presetName}\n${USAGE}`);
  const given = values as Record<string, string | boolean | string[] | undefined>;
  const num = (name: keyof Preset, min = 0): number => {
    const n = Number(given[name] ?? preset[name]);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`--${name} must be a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  const steps = String(given['capacity-steps'] ?? preset['capacity-steps'])
    .split(',')
    .map(Number);
  if (steps.some((s) => !Number.isInteger(s) || s < 3))
    throw new Error(`--capacity-steps must be integers ≥ 3\n${USAGE}`);
  const skip = new Set(String(values.skip).split(',').filter(Boolean));
  for (const name of skip)
    if (!(PHASES as readonly string[]).includes(name))
      throw new Error(`--skip: no phase named ${name}\n${USAGE}`);
  const o: RunOptions = {
    preset: presetName,
    streams: num('streams', 1),
    workers: num('workers', 1),
    seconds: num('seconds', 5),
    speed: num('speed', 0.1),
    warmup: num('warmup', 0),
    apiStarts: num('api-starts', 1),
    apiBursts: num('api-bursts', 1),
    capacitySteps: steps.sort((a, b) => a - b),
    stepSeconds: num('step-seconds', 5),
    settle: num('settle', 0),
    memStreams: num('mem-streams', 1),
    memSpeed: num('mem-speed', 1),
    memMediaSeconds: num('mem-media-seconds', 60),
    limitSeconds: num('limit-seconds', 1),
    infoItems: num('info-items', 2000),
    infoNaive: num('info-naive', 2000),
    originWindow: num('origin-window', 3),
    ffmpeg: !values['no-ffmpeg'],
    loop: !values['no-loop'],
    aligned: Boolean(values.aligned),
    heapSnapshots: Boolean(values['heap-snapshots']),
    profile: Boolean(values.profile),
    workerFlags: values['worker-flag'],
    workerEnv: values['worker-env'],
    workerBFlags: values['worker-b-flag'],
    workerBTree: values['worker-b-tree'],
    keep: Boolean(values.keep),
    skip,
    results: typeof values.results === 'string' ? values.results : defaultResults,
    hardLimitS: 0,
  };
  const badEnv = o.workerEnv.find((e) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(e));
  if (badEnv !== undefined)
    throw new Error(`--worker-env takes NAME=VALUE, not "${badEnv}"\n${USAGE}`);
  if (hasKindB(o) && o.workers < 2)
    throw new Error(`--worker-b-flag and --worker-b-tree need --workers 2 or more\n${USAGE}`);
  // Every phase's own duration plus generous slack for starts and stops.
  o.hardLimitS = Math.ceil(
    120 +
      o.seconds +
      o.warmup +
      60 +
      o.capacitySteps.length * (o.stepSeconds + o.settle + 30) +
      o.memMediaSeconds / o.memSpeed +
      60 +
      o.limitSeconds +
      600,
  );
  return o;
}

/** Whether some workers run with `--worker-b-flag` or `--worker-b-tree` (kind B). */
export function hasKindB(o: RunOptions): boolean {
  return o.workerBFlags.length > 0 || o.workerBTree !== undefined;
}

/** How many of the main phase's workers are of kind A, as given (the first ones). */
export function workersA(o: RunOptions): number {
  return hasKindB(o) ? Math.ceil(o.workers / 2) : o.workers;
}

/** Where a phase's figures are written when --results is not given. */
export const defaultResultsFile = (benchDir: string): string =>
  join(benchDir, 'results', 'hlsdump-bench.md');
