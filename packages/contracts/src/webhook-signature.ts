import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The events' signature (docs/api.md#events): `X-Hlsdump-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">`. The timestamp is signed with the body, so a receiver can refuse replays of an
 * old delivery by its age.
 */
export const SIGNATURE_HEADER = 'X-Hlsdump-Signature';

export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

export type SignatureCheck = { ok: true; t: number } | { ok: false; reason: string };

/** What a receiver does: parse, recompute, compare in constant time, refuse stale timestamps. */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): SignatureCheck {
  if (!header) return { ok: false, reason: 'no signature header' };
  const parts = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1))
    return { ok: false, reason: `malformed signature header: ${header}` };
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1] ?? '', 'hex');
  if (!timingSafeEqual(expected, Buffer.from(v1, 'hex')))
    return { ok: false, reason: 'signature mismatch' };
  const now = options.nowSeconds ?? Date.now() / 1000;
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - t) > tolerance) return { ok: false, reason: `timestamp ${t} is too old` };
  return { ok: true, t };
}
