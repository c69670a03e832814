import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { BatchFailedError } from '../core/embedder.js';
import { QueueFullError } from '../core/scheduler.js';

/** An error whose status, code and message are safe to show the client. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** The request field at fault (`input`, `dimensions`), reported in OpenAI-shaped errors. */
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** OpenAI's error shape, used on the OpenAI-compatible routes (/v1/…) so its clients read our errors. */
export function openAiErrorBody(status: number, code: string, message: string, param: string | null = null) {
  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param, code } };
}

/** Routes whose clients expect OpenAI's error shape. */
export const usesOpenAiErrors = (req: Request) => req.path.startsWith('/v1/');

/** Seconds a client refused by backpressure is told to wait. */
export const QUEUE_FULL_RETRY_AFTER_S = 1;

/** body-parser's error types, mapped to what the client did wrong. */
const PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'invalid_json', 'request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'request body exceeds the limit'],
  'entity.verify.failed': [400, 'invalid_body', 'request body failed verification'],
  'request.aborted': [400, 'request_aborted', 'request body was not received in full'],
  'request.size.invalid': [400, 'invalid_body', 'request body size does not match Content-Length'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'unsupported Content-Encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'unsupported charset; send UTF-8 JSON'],
  'stream.encoding.set': [500, 'internal_error', 'internal error'],
};

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/**
 * The last middleware: every failure becomes `{error: {code, message}}`. Only ApiError and
 * body-parser messages reach the client; anything else is logged and reported as a bare 500.
 */
export function errorHandler(logger: Logger, maxBodyBytes: number, onError?: (error: ApiError) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.destroyed && !(err instanceof ApiError)) {
      // The client went away (or shutdown cut the connection): its queued work was withdrawn; nobody to answer.
      ((req as { log?: Logger }).log ?? logger).info({ reason: err instanceof Error ? err.message : String(err) }, 'request abandoned: connection closed');
      return;
    }
    let apiError: ApiError;
    if (err instanceof ApiError) {
      apiError = err;
    } else if (err instanceof QueueFullError) {
      apiError = new ApiError(503, 'overloaded', `the service is at capacity: ${err.message}; retry later`, {
        'Retry-After': String(QUEUE_FULL_RETRY_AFTER_S),
      });
    } else if (err instanceof BatchFailedError) {
      // Already retried once on another worker (core/retry.ts); the cause stays in the log, not the answer.
      ((req as { log?: Logger }).log ?? logger).error({ err }, 'batch failed after a retry');
      apiError = new ApiError(500, 'batch_failed', `batch ${err.batch + 1} of ${err.batches} failed on two workers; the request was not completed`);
    } else if (typeof err?.type === 'string' && err.type in PARSER_ERRORS) {
      const [status, code, message] = PARSER_ERRORS[err.type]!;
      const detail = code === 'payload_too_large' ? ` of ${maxBodyBytes} bytes (EMBEDDING_MAX_BODY_BYTES)` : '';
      apiError = new ApiError(status, code, message + detail);
    } else {
      ((req as { log?: Logger }).log ?? logger).error({ err }, 'unhandled error');
      apiError = new ApiError(500, 'internal_error', 'internal error');
    }
    if (res.headersSent) {
      // The body is already streaming: the only honest signal left is to cut the connection.
      res.destroy(apiError);
      return;
    }
    onError?.(apiError);
    res.locals.error_code = apiError.code;
    res
      .status(apiError.status)
      .set(apiError.headers)
      .json(
        usesOpenAiErrors(req)
          ? openAiErrorBody(apiError.status, apiError.code, apiError.message, apiError.param)
          : errorBody(apiError.code, apiError.message),
      );
  };
}
