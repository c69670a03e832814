import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** An incoming id is honoured only if it is short and plain, so it is safe to log and echo. */
const ACCEPTABLE_ID = /^[\w.:@/+=-]{1,128}$/;

/** What a route reports about its work, for the request's log line. */
export interface WorkLog {
  chunks?: number;
  tokens?: number;
  /** Set by the error handler: the `code` the client was sent. */
  error_code?: string;
}

/** Routes call this once they know how much they embedded. */
export function logWork(res: Response, work: WorkLog): void {
  Object.assign(res.locals, work);
}

function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

function work(res: ServerResponse): WorkLog {
  const locals = (res as ServerResponse & { locals?: WorkLog }).locals ?? {};
  const out: WorkLog = {};
  if (typeof locals.chunks === 'number') out.chunks = locals.chunks;
  if (typeof locals.tokens === 'number') out.tokens = locals.tokens;
  if (typeof locals.error_code === 'string') out.error_code = locals.error_code;
  return out;
}

/**
 * pino-http: one JSON line per request, when its response ends or the client goes away, with the
 * request id, method, path, status, duration (`responseTime`, ms) and, for embedding routes, chunks
 * and tokens. Headers are not logged (the Authorization header must never reach a log).
 */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: requestId,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    serializers: {
      req: (req: { method: string; url: string; remoteAddress?: string }) => ({ method: req.method, url: req.url, remote: req.remoteAddress }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      // A 5xx is logged with pino's error serializer (stack included): logs are for operators.
    },
    // 503 (loading, draining, queue full) is the service protecting itself, not a fault.
    customLogLevel: (_req, res, err) =>
      res.statusCode === 503 ? 'warn' : err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    customSuccessMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode}`,
    customSuccessObject: (_req, res, val) => ({ ...val, ...work(res) }),
    // For a 5xx without an exception pino-http makes up an Error (and its stack); the status says it all, and
    // a real exception was already logged by the error handler.
    customErrorObject: (_req, res, err, val) => {
      const { err: _synthetic, ...rest } = val as Record<string, unknown>;
      return { ...(err.message === `failed with status code ${res.statusCode}` ? rest : val), ...work(res) };
    },
  }) as unknown as RequestHandler;
}
