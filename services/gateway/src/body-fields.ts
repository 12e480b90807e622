import { InvalidBodyError } from './errors.js';

/** The request body as a JSON object; anything else is named in the error. */
export function requireObject(body: unknown): Record<string, unknown> {
  if (body === undefined)
    throw new InvalidBodyError('Request body must be a JSON object; it is empty');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const what = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    throw new InvalidBodyError(`Request body must be a JSON object, not ${what}`);
  }
  return body as Record<string, unknown>;
}

/** A string field; null counts as absent. */
export function optionalString(object: Record<string, unknown>, field: string): string | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidBodyError(`${field} must be a string`);
  return value;
}
