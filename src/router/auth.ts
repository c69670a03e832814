import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';

/** Routes an orchestrator or scraper must reach without a key. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * `Authorization: Bearer <key>` on every route but PUBLIC_PATHS. Both sides are hashed to equal
 * length first, so timingSafeEqual compares in constant time and the key's length does not leak.
 */
export function requireApiKey(apiKey: string): RequestHandler {
  const expected = digest(apiKey);
  return (req, _res, next) => {
    if (PUBLIC_PATHS.has(req.path)) return next();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (match && timingSafeEqual(digest(match[1]!), expected)) return next();
    next(
      match ? new ApiError('invalid_api_key', 'the API key is not valid') : new ApiError('missing_api_key', 'send the API key as Authorization: Bearer <key>'),
    );
  };
}
