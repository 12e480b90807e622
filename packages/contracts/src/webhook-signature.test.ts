import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from './webhook-signature.js';

describe('webhook signature', () => {
  const body = '{"sequence":1,"type":"running"}';

  it('is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const expected = createHmac('sha256', 's3cret').update(`1796097600.${body}`).digest('hex');
    expect(signWebhook('s3cret', body, 1796097600.9)).toBe(`t=1796097600,v1=${expected}`);
  });

  it('verifies its own, and refuses another secret, another body, a stale timestamp, garbage', () => {
    const header = signWebhook('s3cret', body, 1000);
    expect(verifyWebhook('s3cret', header, body, { nowSeconds: 1010 })).toEqual({
      ok: true,
      t: 1000,
    });
    expect(verifyWebhook('other', header, body, { nowSeconds: 1010 }).ok).toBe(false);
    expect(verifyWebhook('s3cret', header, `${body} `, { nowSeconds: 1010 }).ok).toBe(false);
    expect(verifyWebhook('s3cret', header, body, { nowSeconds: 2000 })).toEqual({
      ok: false,
      reason: 'timestamp 1000 is too old',
    });
    expect(verifyWebhook('s3cret', 't=1,v1=zz', body).ok).toBe(false);
    expect(verifyWebhook('s3cret', undefined, body).ok).toBe(false);
  });
});
