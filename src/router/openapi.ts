import { z } from 'zod';
import { DIMENSIONS, MODEL_ID } from '../model/spec.js';
import { ERRORS, ROUTE_ERRORS, type ErrorCode, type ErrorSpec } from './error-table.js';
import {
  ErrorResponse,
  HealthResponse,
  OpenAIEmbeddingResponse,
  OpenAIErrorResponse,
  ReadyResponse,
  RootResponse,
  embedSchemas,
  openAiEmbeddingRequest,
  type RequestLimits,
} from './schemas.js';

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' }) } },
});
/** Answered by the HTTP server itself (http-server.ts, clientError) before a request reaches a route, so without X-Request-Id. */
const BEFORE_ROUTING: ReadonlySet<string> = new Set(['408', '431']);

/**
 * An operation's error responses, from the error table: one per status, listing each code it can
 * answer with and what it means, with Retry-After and other headers where a code sends them.
 */
function errorResponses(codes: readonly ErrorCode[], schema: z.ZodType): Record<string, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const out: Record<string, object> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const specs: ErrorSpec[] = group.map((code) => ERRORS[code]);
    const headers: Record<string, object> = {};
    if (specs.some((s) => s.retryAfterS !== undefined)) headers['Retry-After'] = { description: 'Seconds to wait before retrying', schema: { type: 'integer' } };
    for (const name of new Set(specs.flatMap((s) => Object.keys(s.headers ?? {})))) headers[name] = { schema: { type: 'string' } };
    const description = group.map((code) => `${code}: ${ERRORS[code].description}`).join('; ');
    out[String(status)] = { ...json(schema, description), ...(Object.keys(headers).length > 0 ? { headers } : {}) };
  }
  return out;
}

const withRequestId = (operation: { responses: Record<string, object> }) => {
  for (const [status, response] of Object.entries(operation.responses)) {
    if (BEFORE_ROUTING.has(status)) continue;
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
  /** EMBEDDING_MAX_SEQ_LENGTH, stated in the /embed schemas. */
  maxSeqLength: number;
  /** Bytes one line of an NDJSON /embed body may take (ndjsonLineLimit). */
  maxLineBytes?: number;
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(version: string, options: OpenApiOptions) {
  const { limits, auth, maxSeqLength } = options;
  const embed = embedSchemas(maxSeqLength);
  const security = auth ? { security: [{ bearerAuth: [] }] } : {};
  const routeErrors = (codes: readonly ErrorCode[], schema: z.ZodType) => errorResponses(auth ? [...codes, ...ROUTE_ERRORS.auth] : codes, schema);
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'doctown-embed',
      version,
      description: `CPU embeddings with ${MODEL_ID} (${DIMENSIONS} dimensions, L2-normalised), each text cut to ${maxSeqLength} word pieces. POST /embed, GET /health and GET / answer as the original Python Doctown worker did (docs/MIGRATING.md).`,
    },
    paths: {
      '/': {
        get: {
          summary: 'Connectivity check, answered as the original worker did',
          responses: { '200': json(RootResponse, 'The service is running') },
        },
      },
      '/health': {
        get: {
          summary: 'Liveness and model status',
          responses: {
            '200': json(HealthResponse, 'Model loaded, serving: status healthy, model_loaded true (the original worker’s answer, with more fields)'),
            '503': json(HealthResponse, 'Model still loading: status loading, model_loaded false'),
          },
        },
      },
      '/embed': {
        post: {
          summary: 'Embed a batch of chunks (the original worker’s API and wire format)',
          requestBody: {
            required: true,
            description:
              'JSON (a body without a Content-Type is read as JSON too, as the original worker read it), or NDJSON: the same request streamed line by line, for requests of any size',
            content: {
              'application/json': { schema: z.toJSONSchema(embed.request, { io: 'input', target: 'draft-2020-12' }) },
              'application/x-ndjson': {
                schema: {
                  description:
                    `One JSON object per line: first an EmbedStreamHeader ({"batch_id"}), then one Chunk per line, at least one; each line at most ${options.maxLineBytes ?? 'a limited number of'} bytes ` +
                    '(6 × EMBEDDING_MAX_CHUNK_CHARS + 64 KiB, at most EMBEDDING_MAX_BODY_BYTES). Read as it arrives, with TCP backpressure while the service is behind, and answered ' +
                    'as the NDJSON stream whatever the Accept header. No limit on the number of chunks (EMBEDDING_MAX_CHUNKS_PER_REQUEST is for JSON bodies). A bad line before any ' +
                    'chunk is answered gets a 4xx error; after, every chunk before it is answered, then an ErrorResponse line names it. EMBEDDING_REQUEST_TIMEOUT_MS limits the time ' +
                    'without a new body byte while the service is reading.',
                  oneOf: [z.toJSONSchema(embed.streamHeader, { target: 'draft-2020-12' }), z.toJSONSchema(embed.chunk, { io: 'input', target: 'draft-2020-12' })],
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'One vector per chunk, in request order: one JSON document, or NDJSON lines for Accept: application/x-ndjson or an NDJSON body',
              content: {
                ...json(embed.response, '').content,
                'application/x-ndjson': {
                  schema: {
                    description:
                      'Sent for Accept: application/x-ndjson, and for every NDJSON body. One line per chunk (a ChunkVector), in request order, written as batches finish, then a summary line (EmbedStreamSummary). A failure after the first line ends the stream with an ErrorResponse line and no summary. The server holds at most two windows of vectors, whatever the request size.',
                    oneOf: [
                      z.toJSONSchema(embed.vector, { target: 'draft-2020-12' }),
                      z.toJSONSchema(embed.summary, { target: 'draft-2020-12' }),
                      z.toJSONSchema(ErrorResponse, { target: 'draft-2020-12' }),
                    ],
                  },
                },
              },
            },
            ...routeErrors(ROUTE_ERRORS.embed, ErrorResponse),
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
            ...routeErrors(ROUTE_ERRORS.openai, OpenAIErrorResponse),
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
          responses: {
            '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } },
            ...(auth ? errorResponses(ROUTE_ERRORS.auth, ErrorResponse) : {}),
          },
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
