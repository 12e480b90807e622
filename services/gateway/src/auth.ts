import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AuthError } from './errors.js';

/**
 * OME's rule: `Authorization: Basic <base64(AccessToken)>`, the whole decoded string compared with
 * the access token (usually `user:password`). Compared as sha256 digests with timingSafeEqual:
 * constant time whatever the lengths.
 */
export function checkAuthorization(header: string | undefined, accessToken: string): void {
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
  if (!equalInConstantTime(decoded, Buffer.from(accessToken, 'utf8')))
    throw new AuthError('Invalid credential');
}

function equalInConstantTime(a: Buffer, b: Buffer): boolean {
  const digest = (value: Buffer): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export function basicAuth(accessToken: string): RequestHandler {
  return (req, _res, next) => {
    checkAuthorization(req.headers.authorization, accessToken);
    next();
  };
}
