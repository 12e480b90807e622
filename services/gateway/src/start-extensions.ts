import { z } from 'zod';
import { InvalidBodyError } from './errors.js';

/**
 * The start body's fields beyond OME's (docs/api.md#start-extensions), checked with the same rule as
 * OME's fields: a wrong type or value is a 400 naming the field; null counts as absent.
 */
export interface StartExtensions {
  maxDurationSeconds?: number;
  from?: string;
  callbackUrl?: string;
}

const FROM_TEXT =
  'from must be "live", "window" or an ISO 8601 date and time with seconds and a zone (2026-12-01T04:00:00Z)';
const isoTime = z.iso.datetime({ offset: true });

const fields = {
  maxDurationSeconds: z
    .number({ error: 'maxDurationSeconds must be a number (seconds of media)' })
    .positive({ error: 'maxDurationSeconds must be greater than 0' })
    .max(366 * 86_400, { error: 'maxDurationSeconds must be at most a year' }),
  from: z
    .string({ error: FROM_TEXT })
    .refine((value) => value === 'live' || value === 'window' || isoTime.safeParse(value).success, {
      error: FROM_TEXT,
    }),
  callbackUrl: z.url({
    protocol: /^https?$/,
    error: 'callbackUrl must be an absolute http:// or https:// URL',
  }),
} as const;

export function parseStartExtensions(object: Record<string, unknown>): StartExtensions {
  const result: StartExtensions = {};
  for (const [field, schema] of Object.entries(fields)) {
    const value = object[field];
    if (value === undefined || value === null) continue;
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new InvalidBodyError(parsed.error.issues[0]?.message ?? `${field} is invalid`);
    Object.assign(result, { [field]: parsed.data });
  }
  return result;
}

/**
 * `callbackUrl` only to hosts the operator listed (`CALLBACK_ALLOWED_HOSTS`, host or host:port;
 * a host without a port allows the scheme's default port only): the API must not be a way to
 * make requests anywhere. Nothing listed: callbackUrl is refused.
 */
export function checkCallbackHost(callbackUrl: string, allowedHosts: readonly string[]): void {
  const host = new URL(callbackUrl).host.toLowerCase();
  if (allowedHosts.length === 0)
    throw new CallbackNotAllowedError(
      'callbackUrl is not enabled here (CALLBACK_ALLOWED_HOSTS is empty)',
    );
  if (!allowedHosts.includes(host))
    throw new CallbackNotAllowedError(`callbackUrl host ${host} is not in CALLBACK_ALLOWED_HOSTS`);
}

export class CallbackNotAllowedError extends InvalidBodyError {}
