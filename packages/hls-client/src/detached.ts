/**
 * A copy of `text` that shares no memory with the string it was cut from. Values taken from a
 * parsed playlist (a name, a program date-time, a title) are V8 slices of the whole playlist text;
 * kept past the next reload (a segment taken again by the next parse, a chunklist entry kept for
 * the life of a dump), each would keep its entire playlist alive.
 */
export function detached(text: string): string;
export function detached(text: string | undefined): string | undefined;
export function detached(text: string | undefined): string | undefined {
  // A concatenation is flattened into a new string before it is sliced: the slice points into
  // that copy, not into the playlist.
  return text === undefined ? undefined : (' ' + text).slice(1);
}
