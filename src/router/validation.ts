import type { z } from 'zod';
import { checkBody, EmbedRequest } from '../core/embed-request.js';
import { ApiError } from './errors.js';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown, invalid: 'invalid_request' | 'validation_failed' = 'invalid_request'): z.infer<S> {
  const result = checkBody(schema, body);
  if (result.ok) return result.data;
  const { message, param, tooMany } = result.issue;
  // RequestLimits' size limit (an array over its max) is 413, not a malformed request.
  throw new ApiError(tooMany ? 'too_many_chunks' : invalid, message, { param });
}

/**
 * Empty and repeated chunk ids pass, as they did in the original worker: the answer follows the chunks by position.
 * An invalid body is 422 `validation_failed`, the status the original answered with.
 */
export function parseEmbedRequest(body: unknown): EmbedRequest {
  return parseBody(EmbedRequest, body, 'validation_failed');
}
