import { optionalString, requireObject } from './body-fields.js';

/** A stop's body: which dumps of the stream to stop (all of them when neither is given). */
export interface StopBody {
  outputStreamName?: string;
  id?: string;
}

/** A JSON object whose known fields are strings (null counts as absent). */
export function parseStopBody(body: unknown): StopBody {
  const object = requireObject(body);
  const result: StopBody = {};
  for (const field of ['outputStreamName', 'id'] as const) {
    const value = optionalString(object, field);
    if (value !== undefined) result[field] = value;
  }
  return result;
}
