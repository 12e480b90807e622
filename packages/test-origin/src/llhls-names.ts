// File names in OvenMediaEngine's LL-HLS layout (publishers/llhls/llhls_stream.cpp):
//   chunklist_<track>_<media type>_<stream key>_llhls.m3u8
//   init_<track>_<media type>_<stream key>_llhls.m4s
//   seg_<track>_<msn>_<media type>_<stream key>_llhls.m4s
//   part_<track>_<msn>_<part>_<media type>_<stream key>_llhls.m4s   (part counts within its segment)

export type MediaType = 'video' | 'audio';
export const MASTER_PLAYLIST = 'llhls.m3u8';
export const ABR_PLAYLIST = 'abr.m3u8';

export const chunklistName = (track: number, type: MediaType, key: string): string =>
  `chunklist_${track}_${type}_${key}_llhls.m3u8`;
export const initName = (track: number, type: MediaType, key: string): string =>
  `init_${track}_${type}_${key}_llhls.m4s`;
export const segmentName = (track: number, msn: number, type: MediaType, key: string): string =>
  `seg_${track}_${msn}_${type}_${key}_llhls.m4s`;
export const partName = (
  track: number,
  msn: number,
  part: number,
  type: MediaType,
  key: string,
): string => `part_${track}_${msn}_${part}_${type}_${key}_llhls.m4s`;

export type ResourceRef =
  | { readonly kind: 'master'; readonly name: typeof MASTER_PLAYLIST | typeof ABR_PLAYLIST }
  | { readonly kind: 'chunklist'; readonly track: number }
  | { readonly kind: 'init'; readonly track: number }
  | { readonly kind: 'segment'; readonly track: number; readonly msn: number }
  | { readonly kind: 'part'; readonly track: number; readonly msn: number; readonly part: number }
  | { readonly kind: 'unknown' };

export type RequestKind = ResourceRef['kind'];

const PATTERNS: readonly [RegExp, (m: number[]) => ResourceRef][] = [
  [
    /^chunklist_(\d+)_(?:video|audio)_([^_/]+)_llhls\.m3u8$/,
    ([track]) => ({ kind: 'chunklist', track: track! }),
  ],
  [
    /^init_(\d+)_(?:video|audio)_([^_/]+)_llhls\.m4s$/,
    ([track]) => ({ kind: 'init', track: track! }),
  ],
  [
    /^seg_(\d+)_(\d+)_(?:video|audio)_([^_/]+)_llhls\.m4s$/,
    ([track, msn]) => ({ kind: 'segment', track: track!, msn: msn! }),
  ],
  [
    /^part_(\d+)_(\d+)_(\d+)_(?:video|audio)_([^_/]+)_llhls\.m4s$/,
    ([track, msn, part]) => ({ kind: 'part', track: track!, msn: msn!, part: part! }),
  ],
];

/** Classifies a file name of a stream with key `key`; other keys are unknown (404). */
export function parseResourceName(name: string, key: string): ResourceRef {
  if (name === MASTER_PLAYLIST || name === ABR_PLAYLIST) return { kind: 'master', name };
  for (const [pattern, make] of PATTERNS) {
    const match = pattern.exec(name);
    if (!match) continue;
    const groups = match.slice(1);
    if (groups[groups.length - 1] !== key) return { kind: 'unknown' };
    return make(groups.slice(0, -1).map(Number));
  }
  return { kind: 'unknown' };
}
