// Runs in a worker thread: reads chunklists in a tight loop, as a player or an uploader polling
// them would, until told to stop. Every read must be a VOD playlist that lists only segments
// complete on disk, and a prefix of what the dump ends with. Plain JavaScript: a worker thread
// cannot load the project's TypeScript.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

/** Lines a segment may carry before its URI. */
const SEGMENT_TAGS = [
  '#EXTINF:',
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-MAP:',
  '#EXT-X-PROGRAM-DATE-TIME:',
];
const HEAD_TAGS = [
  '#EXT-X-VERSION:',
  '#EXT-X-TARGETDURATION:',
  '#EXT-X-MEDIA-SEQUENCE:',
  '#EXT-X-INDEPENDENT-SEGMENTS',
];

/**
 * Checks one read of a chunklist by RFC 8216's rules for a VOD media playlist: #EXTM3U first, one
 * TARGETDURATION no EXTINF exceeds once rounded, ENDLIST present, every URI after exactly one
 * EXTINF with a valid duration, no unknown #EXT tag, no line that is half a tag. Tags after the
 * last URI describe no segment yet (an append between its steps) and are allowed. Returns the
 * segments' URIs with their EXTINF durations.
 */
export function checkChunklist(text) {
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the last line has no newline');
  lines.pop();
  if (lines[0] !== '#EXTM3U') throw new Error('it does not start with #EXTM3U');
  let target;
  let endlist = false;
  let extinf;
  let tagsAfterUri = false;
  let commentedOut = false;
  const segments = [];
  for (const line of lines.slice(1)) {
    if (line === '#EXT-X-ENDLIST') {
      if (endlist) throw new Error('ENDLIST twice');
      endlist = true;
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      if (target !== undefined) throw new Error('TARGETDURATION twice');
      if (!/^\d+$/.test(line.slice(22))) throw new Error(`bad ${line}`);
      target = Number(line.slice(22));
    } else if (line.startsWith('#EXTINF:')) {
      if (extinf !== undefined) throw new Error('two EXTINF for one segment');
      const match = /^#EXTINF:(\d+(?:\.\d+)?),/.exec(line);
      if (!match) throw new Error(`bad ${line}`);
      extinf = Number(match[1]);
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      if (Number.isNaN(Date.parse(line.slice(25)))) throw new Error(`bad ${line}`);
    } else if (line.startsWith('#EXT-X-MAP:')) {
      if (!/^#EXT-X-MAP:URI="[^"]+"$/.test(line)) throw new Error(`bad ${line}`);
    } else if (line.startsWith('#EXT')) {
      if (![...SEGMENT_TAGS, ...HEAD_TAGS].some((tag) => line === tag || line.startsWith(tag))) {
        throw new Error(`unknown or torn tag ${line}`);
      }
      if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:') && line !== '#EXT-X-MEDIA-SEQUENCE:0') {
        throw new Error(`bad ${line}`);
      }
    } else if (line.startsWith('#') || line === '') {
      // A comment, or a blank line: nothing.
      if (line.startsWith('# ')) commentedOut = true;
      continue;
    } else {
      if (extinf === undefined) throw new Error(`URI ${line} without EXTINF`);
      segments.push({ uri: line, duration: extinf });
      extinf = undefined;
      tagsAfterUri = false;
      continue;
    }
    if (SEGMENT_TAGS.some((tag) => line.startsWith(tag))) tagsAfterUri = true;
  }
  if (!endlist) throw new Error('no ENDLIST');
  if (target === undefined) throw new Error('no TARGETDURATION');
  for (const segment of segments) {
    if (Math.round(segment.duration) > target) {
      throw new Error(`EXTINF ${segment.duration} exceeds TARGETDURATION ${target}`);
    }
  }
  // Caught between the steps of an append: lines still commented out, or tags without their URI.
  segments.midAppend = commentedOut || tagsAfterUri;
  return segments;
}

if (parentPort && workerData?.paths) {
  const { paths, stopFlag } = workerData;
  const stop = new Int32Array(stopFlag);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let reads = 0;
  let midAppend = 0;
  const errors = [];
  /** Per chunklist: every URI seen, in order, and the size its file had when first listed. */
  const seen = paths.map(() => []);
  const check = (index) => {
    const path = paths[index];
    let bytes;
    try {
      bytes = readFileSync(path); // one read of the whole file
    } catch (error) {
      if (error.code === 'ENOENT') return; // not written yet
      throw error;
    }
    reads++;
    try {
      const segments = checkChunklist(decoder.decode(bytes));
      if (segments.midAppend) midAppend++;
      const known = seen[index];
      if (segments.length < known.length) {
        throw new Error(`${known.length} segments listed, then ${segments.length}`);
      }
      segments.forEach((segment, i) => {
        if (i < known.length) {
          if (known[i].uri !== segment.uri)
            throw new Error(`segment ${i} was ${known[i].uri}, now ${segment.uri}`);
          return;
        }
        // Listed, so complete under its final name: its size now is the size it keeps.
        const size = statSync(join(dirname(path), segment.uri)).size;
        known.push({ uri: segment.uri, size });
      });
    } catch (error) {
      if (errors.length < 5) errors.push(`${path}: ${error.message} | ${bytes.length} bytes`);
      else errors.length++;
    }
  };
  while (Atomics.load(stop, 0) === 0) for (let i = 0; i < paths.length; i++) check(i);
  for (let i = 0; i < paths.length; i++) check(i);
  parentPort.postMessage({
    reads,
    midAppend,
    invalid: errors.length,
    errors: errors.slice(0, 5),
    seen,
  });
}
