import { randomBytes } from 'node:crypto';

/** A name no other test file or run uses (queue names, key prefixes). */
export function uniqueName(base: string): string {
  return `${base}-${randomBytes(4).toString('hex')}`;
}
