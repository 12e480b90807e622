import { optionalString, requireObject } from './body-fields.js';
import { InvalidBodyError, MissingFieldError } from './errors.js';
import { parseStartExtensions, type StartExtensions } from './start-extensions.js';

/** The start body's fields after check 1 of docs/api.md#start-checks (types), before check 4 (required). */
export interface StartBody extends StartExtensions {
  outputStreamName?: string;
  id?: string;
  outputPath?: string;
  playlist?: string[];
  infoFile?: string;
  userData?: string;
}

/** Check 1: a JSON object whose known fields have the right types (null counts as absent). */
export function parseStartBody(body: unknown): StartBody {
  const object = requireObject(body);
  const result: StartBody = {};
  for (const field of ['outputStreamName', 'id', 'outputPath', 'infoFile', 'userData'] as const) {
    const value = optionalString(object, field);
    if (value !== undefined) result[field] = value;
  }
  const playlist = object.playlist;
  if (playlist !== undefined && playlist !== null) {
    if (!Array.isArray(playlist) || !playlist.every((entry) => typeof entry === 'string')) {
      throw new InvalidBodyError('playlist must be an array of strings');
    }
    if (playlist.length > 0) result.playlist = playlist;
  }
  Object.assign(result, parseStartExtensions(object));
  return result;
}

/** Check 4. */
export function requireStartFields(
  body: StartBody,
): Required<Pick<StartBody, 'outputStreamName' | 'id' | 'outputPath'>> {
  const { outputStreamName, id, outputPath } = body;
  if (!outputStreamName || !id || !outputPath) {
    throw new MissingFieldError('id, outputStreamName and outputPath are required');
  }
  return { outputStreamName, id, outputPath };
}
