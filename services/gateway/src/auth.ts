import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AuthError } from './errors.js';

/**
 * OME's rule: `Authorization: Basic <base64(AccessToken)>`, the whole decoded string compared with
 * the access token (usually `user:password`). Compared as sha256 digests with timingSafeEqual:
 * constant time whatever the lengths.
 */
export function checkAuthorization(header: string | undefined, accessToken: string): void {
  checkAgainstDigest(header, digestOf(Buffer.from(accessToken, 'utf8')));
}

/** The check with the access token's digest worked out once, not at every request. */
function checkAgainstDigest(header: string | undefined, tokenDigest: Buffer): void {
  if (header === undefined || header.trim() === '')
    throw new AuthError('Authorization header is required to call API');
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header.trim());
  if (!match) throw new AuthError('Invalid authorization header');
  const [, type = '', credential = ''] = match;
  if (type.toLowerCase() !== 'basic') throw new AuthError(`Not supported credential type: ${type}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(credential) || credential.length % 4 !== 0) {
    throw new AuthError('Invalid credential format');
  }
  const decoded = Buffer.from(credential, 'base64');
  if (!timingSafeEqual(digestOf(decoded), tokenDigest)) throw new AuthError('Invalid credential');
}

function digestOf(value: Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

export function basicAuth(accessToken: string): RequestHandler {
  const tokenDigest = digestOf(Buffer.from(accessToken, 'utf8'));
  return (req, _res, next) => {
    checkAgainstDigest(req.headers.authorization, tokenDigest);
    next();
  };
}
