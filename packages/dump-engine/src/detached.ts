/**
 * A copy of `text` that shares no memory with the string it was cut from. Values taken from a
 * parsed playlist (a program date-time, a title) are V8 slices of the whole playlist text; kept
 * for the life of a dump, each would keep its entire playlist alive.
 */
export function detached(text: string): string;
export function detached(text: string | undefined): string | undefined;
export function detached(text: string | undefined): string | undefined {
  return text === undefined ? undefined : Buffer.from(text, 'utf8').toString('utf8');
}
