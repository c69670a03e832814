/**
 * Every error the service answers with, in one table: its HTTP status, whether and how long the
 * client should wait (Retry-After), the reason it is counted under in
 * `embedding_rejected_requests_total`, and what it means (the OpenAPI document's text). Routes and
 * middleware throw codes; the error handler, the HTTP server's own answers and the OpenAPI document
 * read their statuses and headers from here.
 */
export interface ErrorSpec {
  status: number;
  /** Seconds to send in Retry-After; the thrower may give a better figure (the supervisor's). */
  retryAfterS?: number;
  /** Extra headers every answer with this code carries. */
  headers?: Readonly<Record<string, string>>;
  /** A refusal before any work, counted by reason in embedding_rejected_requests_total. */
  rejectedReason?: 'queue_full' | 'memory_pressure' | 'loading';
  description: string;
}

export const ERRORS = {
  invalid_json: { status: 400, description: 'the body is not valid JSON' },
  invalid_body: { status: 400, description: 'the body failed verification or does not match its Content-Length' },
  request_aborted: { status: 400, description: 'the body was not received in full' },
  invalid_request: { status: 400, description: 'POST /v1/embeddings: a field is missing or invalid; the message names it (e.g. input)' },
  // 422, as the original Python worker (FastAPI) answered it: its clients' tests check the status.
  validation_failed: {
    status: 422,
    description: 'POST /embed: the body is JSON but a field is missing or invalid; the message names it (e.g. chunks[3].content)',
  },
  unsupported_input: { status: 400, description: 'token-id arrays as input (they would be in another model’s vocabulary)' },
  bad_request: { status: 400, description: 'malformed HTTP; sent before routing, and the connection closes' },
  missing_api_key: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, description: 'no Authorization: Bearer key (EMBEDDING_API_KEY is set)' },
  invalid_api_key: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, description: 'the Bearer key is wrong' },
  not_found: { status: 404, description: 'no such route' },
  request_timeout: {
    status: 408,
    description:
      'the headers, then the body, were not received within EMBEDDING_REQUEST_TIMEOUT_MS (a JSON body), or an NDJSON body sent nothing for that long while the service was reading; a JSON body’s answer is sent without X-Request-Id, and the connection closes',
  },
  payload_too_large: { status: 413, description: 'the body is larger than EMBEDDING_MAX_BODY_BYTES, or a line of an NDJSON body is longer than its limit (6 × EMBEDDING_MAX_CHUNK_CHARS + 64 KiB)' },
  too_many_chunks: { status: 413, description: 'more chunks (or inputs) than EMBEDDING_MAX_CHUNKS_PER_REQUEST' },
  unsupported_media_type: {
    status: 415,
    description: 'the body has a Content-Type other than application/json (or application/*+json); a body without one is read as JSON',
  },
  unsupported_encoding: { status: 415, description: 'an unsupported Content-Encoding' },
  unsupported_charset: { status: 415, description: 'a charset other than UTF-8' },
  headers_too_large: { status: 431, description: 'request headers over Node’s 16 KB limit; sent before routing, without X-Request-Id, and the connection closes' },
  internal_error: { status: 500, description: 'an unexpected failure; details go to the log, never to the client' },
  batch_failed: { status: 500, description: 'a batch failed on two workers; no partial result is returned' },
  insufficient_memory: {
    status: 507,
    description: 'the request (its body, or one of its chunks) needs more memory than the budget can ever give; the message says how much and what to change',
  },
  model_loading: { status: 503, retryAfterS: 2, rejectedReason: 'loading', description: 'the model is still loading' },
  overloaded: { status: 503, retryAfterS: 1, rejectedReason: 'queue_full', description: 'the queue is full (EMBEDDING_MAX_QUEUED_CHUNKS)' },
  memory_pressure: {
    status: 503,
    retryAfterS: 2,
    rejectedReason: 'memory_pressure',
    description: 'memory is over budget at the floor; requests already accepted finish',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.hasOwn(ERRORS, code);

/** The answer's headers: the code's own, and Retry-After when it has one (`retryAfterS` overrides the table's). */
export function errorHeaders(code: ErrorCode, retryAfterS?: number): Record<string, string> {
  const spec: ErrorSpec = ERRORS[code];
  const wait = retryAfterS ?? spec.retryAfterS;
  return { ...spec.headers, ...(wait === undefined ? {} : { 'Retry-After': String(wait) }) };
}

/** The codes each POST route can answer with, for its OpenAPI responses. */
const COMMON_POST: readonly ErrorCode[] = [
  'invalid_json',
  'invalid_body',
  'request_aborted',
  'payload_too_large',
  'too_many_chunks',
  'unsupported_media_type',
  'unsupported_encoding',
  'unsupported_charset',
  'request_timeout',
  'headers_too_large',
  'internal_error',
  'batch_failed',
  'insufficient_memory',
  'model_loading',
  'overloaded',
  'memory_pressure',
];
export const ROUTE_ERRORS = {
  embed: ['validation_failed', ...COMMON_POST],
  openai: ['invalid_request', ...COMMON_POST, 'unsupported_input'],
  auth: ['missing_api_key', 'invalid_api_key'],
} as const satisfies Record<string, readonly ErrorCode[]>;
