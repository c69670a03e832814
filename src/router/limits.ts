import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';
import type { RequestLimits } from './schemas.js';

/**
 * POST /embed's size limits, checked on the parsed body before validation and before any work:
 * too many chunks, or one chunk's content over EMBEDDING_MAX_CHUNK_CHARS, is 413 naming the chunk
 * by index and chunk_id. Malformed bodies pass through untouched for the schema to report.
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
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as { chunk_id?: unknown; content?: unknown } | null;
      if (typeof chunk?.content === 'string' && chunk.content.length > limits.maxChunkChars) {
        const id = typeof chunk.chunk_id === 'string' ? ` (chunk_id ${JSON.stringify(chunk.chunk_id.slice(0, 200))})` : '';
        return next(
          new ApiError(
            'chunk_too_large',
            `chunks[${i}].content${id}: ${chunk.content.length} characters exceed the limit of ${limits.maxChunkChars} (EMBEDDING_MAX_CHUNK_CHARS)`,
            { param: 'chunks' },
          ),
        );
      }
    }
    next();
  };
}
