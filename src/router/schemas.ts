import { z } from 'zod';

/**
 * The wire format, in one place: request validation, the OpenAPI document and the tests' response
 * checks all derive from these schemas.
 */
export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable error code, e.g. invalid_request'),
      message: z.string().describe('Human-readable explanation'),
    }),
  })
  .meta({ id: 'ErrorResponse' });

export const Chunk = z
  .object({
    chunk_id: z.string().min(1).describe('Caller-chosen id, unique within the request'),
    content: z.string().describe('Text to embed; may be empty. Truncated to 256 word pieces.'),
  })
  .meta({ id: 'Chunk' });

export const EmbedRequest = z
  .object({
    batch_id: z.string().min(1).describe('Caller-chosen id echoed in the response'),
    chunks: z.array(Chunk).min(1),
  })
  .meta({ id: 'EmbedRequest' });
export type EmbedRequest = z.infer<typeof EmbedRequest>;

export const ChunkEmbedding = z
  .object({
    chunk_id: z.string(),
    embedding: z.array(z.number()).length(384).describe('L2-normalised vector'),
    tokens: z.number().int().min(2).max(256).describe('Word pieces fed to the model, [CLS] and [SEP] included'),
    truncated: z.boolean().describe('True when the content was cut to 256 word pieces'),
  })
  .meta({ id: 'ChunkEmbedding' });

export const EmbedResponse = z
  .object({
    batch_id: z.string(),
    model: z.string(),
    dimensions: z.literal(384),
    embeddings: z.array(ChunkEmbedding).describe('One entry per chunk, in request order'),
    usage: z.object({ chunks: z.number().int(), tokens: z.number().int() }),
    timing_ms: z.number(),
  })
  .meta({ id: 'EmbedResponse' });

export const HealthResponse = z
  .object({
    status: z.enum(['ok', 'loading']),
    model: z.string(),
    variant: z.enum(['fp32', 'int8']),
    dimensions: z.literal(384),
    workers: z.number().int(),
    threads_per_worker: z.number().int(),
    uptime_s: z.number(),
  })
  .meta({ id: 'HealthResponse' });
