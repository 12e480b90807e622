// Loads the committed ffmpeg-made fixtures (see scripts/make-fixtures.sh).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type RenditionId = 'video_0' | 'video_1' | 'audio_0';
export const RENDITION_IDS: readonly RenditionId[] = ['video_0', 'video_1', 'audio_0'];

export interface FixtureFragment {
  readonly data: Buffer;
  readonly durationTicks: number;
  /** Decode time of the fragment's first sample within the loop, in ticks. */
  readonly startTicks: number;
}

export interface FixtureRendition {
  readonly id: RenditionId;
  readonly type: 'video' | 'audio';
  readonly codecs: string;
  readonly timescale: number;
  readonly bandwidth: number;
  readonly averageBandwidth: number;
  readonly resolution?: { readonly width: number; readonly height: number };
  readonly init: Buffer;
  readonly fragments: readonly FixtureFragment[];
  /** Length of one pass over the fixture, in ticks and seconds. */
  readonly loopTicks: number;
  readonly loopSeconds: number;
}

interface ManifestJson {
  id: RenditionId;
  type: 'video' | 'audio';
  codecs: string;
  timescale: number;
  bandwidth: number;
  averageBandwidth: number;
  resolution?: { width: number; height: number };
  init: string;
  fragments: { file: string; duration: number; durationTicks: number }[];
}

/** Same relative path from src/ and dist/, so this works both from sources and built. */
export const DEFAULT_FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

const cache = new Map<string, readonly FixtureRendition[]>();

export function loadFixtures(dir = DEFAULT_FIXTURES_DIR): readonly FixtureRendition[] {
  const cached = cache.get(dir);
  if (cached) return cached;
  const renditions = RENDITION_IDS.map((id) => loadRendition(join(dir, id)));
  const loops = new Set(renditions.map((r) => r.loopSeconds));
  // All renditions must loop together or their segment numbers would drift apart.
  if (loops.size !== 1)
    throw new Error(`fixture renditions loop at different times: ${[...loops].join(', ')}`);
  cache.set(dir, renditions);
  return renditions;
}

function loadRendition(dir: string): FixtureRendition {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ManifestJson;
  let startTicks = 0;
  const fragments = manifest.fragments.map((f): FixtureFragment => {
    const fragment = {
      data: readFileSync(join(dir, f.file)),
      durationTicks: f.durationTicks,
      startTicks,
    };
    startTicks += f.durationTicks;
    return fragment;
  });
  if (fragments.length === 0) throw new Error(`no fragments in ${dir}`);
  return {
    id: manifest.id,
    type: manifest.type,
    codecs: manifest.codecs,
    timescale: manifest.timescale,
    bandwidth: manifest.bandwidth,
    averageBandwidth: manifest.averageBandwidth,
    ...(manifest.resolution ? { resolution: manifest.resolution } : {}),
    init: readFileSync(join(dir, manifest.init)),
    fragments,
    loopTicks: startTicks,
    loopSeconds: startTicks / manifest.timescale,
  };
}
