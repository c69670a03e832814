import { z } from 'zod';
import {
  ChunkEmbedding,
  EmbedRequest,
  EmbedStreamSummary,
  EmbedResponse,
  ErrorResponse,
  HealthResponse,
  OpenAIEmbeddingResponse,
  OpenAIErrorResponse,
  ReadyResponse,
  openAiEmbeddingRequest,
  type RequestLimits,
} from './schemas.js';

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' }) } },
});
const error = (description: string) => json(ErrorResponse, description);
const openAiError = (description: string) => json(OpenAIErrorResponse, description);
const withRetryAfter = <T extends object>(response: T) => ({
  ...response,
  headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
});
/**
 * Answered by the HTTP server itself (http-server.ts, clientError) before a request reaches a route,
 * so without X-Request-Id, and the connection closes after them.
 */
const connectionErrors = {
  '408': error('The request line, headers and body were not all received within EMBEDDING_REQUEST_TIMEOUT_MS (request_timeout); sent before routing, without X-Request-Id, and the connection closes'),
  '431': error('Request headers too large (headers_too_large); sent before routing, without X-Request-Id, and the connection closes'),
};
const withRequestId = (operation: { responses: Record<string, object> }) => {
  for (const [status, response] of Object.entries(operation.responses)) {
    if (status in connectionErrors) continue;
    (response as { headers?: object }).headers = {
      'X-Request-Id': { description: 'The request id: the incoming X-Request-Id when it is plain, else a fresh UUID', schema: { type: 'string' } },
      ...(response as { headers?: object }).headers,
    };
  }
  return operation;
};

export interface OpenApiOptions {
  limits: RequestLimits;
  /** EMBEDDING_API_KEY is set: protected operations list the bearer scheme and a 401. */
  auth: boolean;
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(version: string, options: OpenApiOptions) {
  const { limits, auth } = options;
  const security = auth ? { security: [{ bearerAuth: [] }] } : {};
  const unauthorized = (shape: typeof error) => (auth ? { '401': shape('Missing or wrong Authorization: Bearer key (WWW-Authenticate set)') } : {});
  const document = {
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
            '200': {
              description: 'One embedding per chunk, in request order: one JSON document, or NDJSON lines for Accept: application/x-ndjson',
              content: {
                ...json(EmbedResponse, '').content,
                'application/x-ndjson': {
                  schema: {
                    description:
                      'Sent for Accept: application/x-ndjson. One line per chunk (a ChunkEmbedding), in request order, written as batches finish, then a summary line (EmbedStreamSummary). A failure after the first line ends the stream with an ErrorResponse line and no summary. The server holds at most two windows of vectors, whatever the request size.',
                    oneOf: [
                      z.toJSONSchema(ChunkEmbedding, { target: 'draft-2020-12' }),
                      z.toJSONSchema(EmbedStreamSummary, { target: 'draft-2020-12' }),
                      z.toJSONSchema(ErrorResponse, { target: 'draft-2020-12' }),
                    ],
                  },
                },
              },
            },
            '400': error('Malformed JSON, invalid fields or duplicate chunk_id'),
            ...unauthorized(error),
            '413': error(
              `Body larger than EMBEDDING_MAX_BODY_BYTES (payload_too_large), more than ${limits.maxChunks} chunks (too_many_chunks, EMBEDDING_MAX_CHUNKS_PER_REQUEST) or a chunk's content over ${limits.maxChunkChars} characters (chunk_too_large, EMBEDDING_MAX_CHUNK_CHARS; the message names its index and chunk_id)`,
            ),
            '415': error('Body is not application/json'),
            ...connectionErrors,
            '500': error('A batch failed; no partial result is returned'),
            '503': withRetryAfter(
              error(
                'Model still loading (model_loading), the queue is full (overloaded, EMBEDDING_MAX_QUEUED_CHUNKS) or memory is over budget at the floor (memory_pressure; accepted requests finish); Retry-After set',
              ),
            ),
          },
          ...security,
        },
      },
      '/v1/embeddings': {
        post: {
          summary: "OpenAI-compatible embeddings (point the openai client's baseURL at /v1)",
          requestBody: {
            required: true,
            content: { 'application/json': { schema: z.toJSONSchema(openAiEmbeddingRequest(limits), { io: 'input', target: 'draft-2020-12' }) } },
          },
          responses: {
            '200': json(OpenAIEmbeddingResponse, 'One embedding per input, in input order'),
            '400': openAiError('Malformed JSON, invalid fields, dimensions other than 384, or token-id input'),
            ...unauthorized(openAiError),
            '413': openAiError('Body over EMBEDDING_MAX_BODY_BYTES, too many inputs or an input over EMBEDDING_MAX_CHUNK_CHARS'),
            '415': openAiError('Body is not application/json'),
            ...connectionErrors,
            '500': openAiError('A batch failed; no partial result is returned'),
            '503': withRetryAfter(openAiError('Model still loading or the queue is full; Retry-After set')),
          },
          ...security,
        },
      },
      '/ready': {
        get: {
          summary: 'Readiness: 200 when the model is loaded and the process is not shutting down',
          responses: {
            '200': json(ReadyResponse, 'Ready for traffic'),
            '503': json(ReadyResponse, 'Loading the model, or draining after SIGTERM/SIGINT'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text exposition format)',
          responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } }, ...unauthorized(error) },
          ...security,
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'EMBEDDING_API_KEY; required only when it is set' },
      },
    },
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) withRequestId(operation);
  }
  return document;
}
