import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';
import type { RequestLimits } from './schemas.js';

/**
 * POST /embed's size limit, checked on the parsed body before validation and before any work: too many chunks is 413.
 * A chunk's length is never refused (issue 12): the embedder cuts what the model cannot see. Malformed bodies pass
 * through untouched for the schema to report.
 */
export function embedLimits(limits: RequestLimits): RequestHandler {
  return (req, _res, next) => {
    const chunks: unknown = (req.body as { chunks?: unknown } | null)?.chunks;
    if (!Array.isArray(chunks)) return next();
    if (chunks.length > limits.maxChunks) {
      return next(
        new ApiError('too_many_chunks', `chunks: ${chunks.length} chunks exceed the limit of ${limits.maxChunks} per request (EMBEDDING_MAX_CHUNKS_PER_REQUEST)`, { param: 'chunks' }),
      );
    }
    next();
  };
}
