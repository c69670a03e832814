import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { BatchFailedError } from '../core/batch-runner.js';
import { InsufficientMemoryError, QueueFullError } from '../core/scheduler.js';
import { ERRORS, errorHeaders, type ErrorCode } from './error-table.js';

/** An error whose code and message are safe to show the client; its status and headers come from the error table. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly headers: Record<string, string>;
  /** The request field at fault (`input`, `dimensions`), reported in OpenAI-shaped errors. */
  readonly param: string | null;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { param?: string | null; retryAfterS?: number } = {},
  ) {
    super(message);
    this.status = ERRORS[code].status;
    this.headers = errorHeaders(code, options.retryAfterS);
    this.param = options.param ?? null;
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

/** body-parser's error types, mapped to what the client did wrong. */
const PARSER_ERRORS: Record<string, [ErrorCode, string]> = {
  'entity.parse.failed': ['invalid_json', 'request body is not valid JSON'],
  'entity.too.large': ['payload_too_large', 'request body exceeds the limit'],
  'entity.verify.failed': ['invalid_body', 'request body failed verification'],
  'request.aborted': ['request_aborted', 'request body was not received in full'],
  'request.size.invalid': ['invalid_body', 'request body size does not match Content-Length'],
  'encoding.unsupported': ['unsupported_encoding', 'unsupported Content-Encoding'],
  'charset.unsupported': ['unsupported_charset', 'unsupported charset; send UTF-8 JSON'],
  'stream.encoding.set': ['internal_error', 'internal error'],
};

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError('not_found', `no route for ${req.method} ${req.path}`));
};

const requestLog = (req: Request, logger: Logger): Logger => (req as { log?: Logger }).log ?? logger;

/**
 * What the client is told about `err`: an ApiError as it is, the core's refusals and failures by
 * their codes, body-parser's by its types; anything else is logged and becomes a bare 500.
 */
export function toApiError(err: unknown, log: Logger, maxBodyBytes: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof QueueFullError) return new ApiError(err.code, `the service is at capacity: ${err.message}; retry later`);
  if (err instanceof InsufficientMemoryError) return new ApiError(err.code, `the request cannot fit the memory budget: ${err.message}`);
  if (err instanceof BatchFailedError) {
    // Already retried once on another worker (core/run-batch.ts); the cause stays in the log, not the answer.
    log.error({ err }, 'batch failed after a retry');
    return new ApiError(err.code, `batch ${err.batch + 1} of ${err.batches} failed on two workers; the request was not completed`);
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && Object.hasOwn(PARSER_ERRORS, type)) {
    const [code, message] = PARSER_ERRORS[type]!;
    return new ApiError(code, code === 'payload_too_large' ? `${message} of ${maxBodyBytes} bytes (EMBEDDING_MAX_BODY_BYTES)` : message);
  }
  log.error({ err }, 'unhandled error');
  return new ApiError('internal_error', 'internal error');
}

/**
 * The last middleware: every failure becomes `{error: {code, message}}` (OpenAI's shape on /v1/).
 * Only ApiError messages reach the client; `onError` sees every answered error (for metrics).
 */
export function errorHandler(logger: Logger, maxBodyBytes: number, onError?: (error: ApiError) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.destroyed && !(err instanceof ApiError)) {
      // The client went away (or shutdown cut the connection): its queued work was withdrawn; nobody to answer.
      requestLog(req, logger).info({ reason: err instanceof Error ? err.message : String(err) }, 'request abandoned: connection closed');
      return;
    }
    const apiError = toApiError(err, requestLog(req, logger), maxBodyBytes);
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
