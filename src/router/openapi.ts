import { z } from 'zod';
import { EmbedRequest, EmbedResponse, ErrorResponse, HealthResponse } from './schemas.js';

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' }) } },
});
const error = (description: string) => json(ErrorResponse, description);

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'doctown-embed',
      version,
      description: 'CPU embeddings with sentence-transformers/all-MiniLM-L6-v2 (384 dimensions, L2-normalised).',
    },
    paths: {
      '/health': {
        get: {
          summary: 'Liveness and model status',
          responses: {
            '200': json(HealthResponse, 'Model loaded, serving'),
            '503': json(HealthResponse, 'Model still loading'),
          },
        },
      },
      '/embed': {
        post: {
          summary: 'Embed a batch of chunks (the original service API)',
          requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(EmbedRequest, { io: 'input', target: 'draft-2020-12' }) } } },
          responses: {
            '200': json(EmbedResponse, 'One embedding per chunk, in request order'),
            '400': error('Malformed JSON, invalid fields or duplicate chunk_id'),
            '413': error('Body larger than EMBEDDING_MAX_BODY_BYTES'),
            '415': error('Body is not application/json'),
            '500': error('A batch failed; no partial result is returned'),
            '503': error('Model still loading (Retry-After set)'),
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1 document' } } },
      },
    },
  };
}
