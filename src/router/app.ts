import cors from 'cors';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { EmbedService } from '../core/embedder.js';
import { PUBLIC_PATHS, requireApiKey } from './auth.js';
import { embedRoute } from './embed-route.js';
import { ERRORS, type ErrorSpec } from './error-table.js';
import { ApiError, errorHandler, notFound } from './errors.js';
import { healthRoute, requireReady, rootRoute, type ServiceStatus } from './health-route.js';
import { embedLimits } from './limits.js';
import type { Metrics } from '../metrics.js';
import { MAX_SEQ_LENGTH } from '../model/spec.js';
import { openAiEmbeddingsRoute } from './openai-route.js';
import { openApiDocument } from './openapi.js';
import { readiness, readyRoute, type Lifecycle } from './ready-route.js';
import { requestLogger } from './request-log.js';
import { openAiEmbeddingRequest, type QueueReadyState, type RequestLimits } from './schemas.js';

export interface AppDependencies {
  embedder: EmbedService;
  status: ServiceStatus;
  logger: Logger;
  maxBodyBytes: number;
  version: string;
  /** Prometheus metrics, served at /metrics. */
  metrics: Metrics;
  /** `draining` is set on SIGTERM/SIGINT: /ready turns 503. */
  lifecycle: Lifecycle;
  /** EMBEDDING_MAX_CHUNKS_PER_REQUEST. */
  limits: RequestLimits;
  /** EMBEDDING_MAX_SEQ_LENGTH, for the OpenAPI document; MAX_SEQ_LENGTH when absent. */
  maxSeqLength?: number | undefined;
  /** EMBEDDING_API_KEY: when set, every route but /health, /ready and /metrics needs it as a Bearer token. */
  apiKey?: string | undefined;
  /** EMBEDDING_CORS_ORIGIN, split: allowed browser origins (`*` for any); CORS is off when empty. */
  corsOrigins?: string[] | undefined;
  /** The NATS worker mode's state, reported by /ready when EMBEDDING_NATS_URL is set. */
  queueState?: (() => QueueReadyState) | undefined;
  /** Memory supervisor's admission gate: 503 `memory_pressure` while memory is over budget; runs before the body is parsed. */
  memoryGate?: RequestHandler;
}

const ROUTES: ReadonlySet<string> = new Set([...PUBLIC_PATHS, '/', '/embed', '/v1/embeddings', '/openapi.json']);

const JSON_TYPES = ['application/json', 'application/*+json'];
/**
 * A body is read as JSON when it says so, or when it has no Content-Type at all: the original worker (FastAPI) read
 * those as JSON, so clients written for it may send them (an HTTP library posting raw bytes, `curl -H 'Content-Type:'`).
 */
const isJsonBody = (req: express.Request): boolean => req.headers['content-type'] === undefined || Boolean(req.is(JSON_TYPES));

/** POST bodies must be JSON: anything else would reach the handlers unparsed. */
const requireJson: RequestHandler = (req, _res, next) => {
  if (isJsonBody(req)) return next();
  // curl -d without -H sends application/x-www-form-urlencoded: say what arrived, so the fix is obvious.
  const sent = req.headers['content-type']!.split(';')[0]!.trim().slice(0, 100);
  next(new ApiError('unsupported_media_type', `the body was sent as ${sent}; send it as Content-Type: application/json (or with no Content-Type)`));
};

export function createApp(deps: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const { metrics, lifecycle, limits } = deps;
  const corsOrigins = deps.corsOrigins?.filter((o) => o.length > 0) ?? [];
  const document = openApiDocument(deps.version, { limits, auth: Boolean(deps.apiKey), maxSeqLength: deps.maxSeqLength ?? MAX_SEQ_LENGTH });
  const openAiRequest = openAiEmbeddingRequest(limits);
  metrics.observeReadiness(() => readiness(deps.status, lifecycle) === 'ready');
  const memoryGate: RequestHandler = deps.memoryGate ?? ((_req, _res, next) => next());
  // strict: false lets a JSON `null` or `"text"` body through to validation, which names the problem.
  const parseJson = express.json({ limit: deps.maxBodyBytes, strict: false, type: (req) => isJsonBody(req as express.Request) });

  // Security headers for a JSON API; a browser may read responses cross-origin only when CORS is configured.
  app.use(helmet({ crossOriginResourcePolicy: { policy: corsOrigins.length > 0 ? 'cross-origin' : 'same-origin' } }));
  app.use(metrics.httpMiddleware(ROUTES));
  app.use(requestLogger(deps.logger));
  if (corsOrigins.length > 0) {
    app.use(
      cors({
        origin: corsOrigins.includes('*') ? '*' : corsOrigins,
        methods: ['GET', 'POST'],
        allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
        exposedHeaders: ['X-Request-Id', 'Retry-After'],
        maxAge: 600,
      }),
    );
  }
  // While draining, every response closes its connection so keep-alive clients reconnect elsewhere.
  app.use((_req, res, next) => {
    if (lifecycle.draining) res.set('Connection', 'close');
    next();
  });

  app.get('/', rootRoute);
  app.get('/health', healthRoute(deps.status));
  app.get('/ready', readyRoute(deps.status, lifecycle, deps.queueState));
  app.get('/metrics', metrics.route());
  if (deps.apiKey) app.use(requireApiKey(deps.apiKey));
  app.get('/openapi.json', (_req, res) => void res.json(document));
  app.post('/embed', requireJson, memoryGate, parseJson, embedLimits(limits), requireReady(deps.status), embedRoute(deps.embedder, deps.status.model));
  app.post('/v1/embeddings', requireJson, memoryGate, parseJson, requireReady(deps.status), openAiEmbeddingsRoute(deps.embedder, deps.status.model, openAiRequest));
  app.use(notFound);
  app.use(
    errorHandler(deps.logger, deps.maxBodyBytes, (error) => {
      const spec: ErrorSpec = ERRORS[error.code];
      if (spec.rejectedReason) metrics.rejected.inc({ reason: spec.rejectedReason });
    }),
  );
  return app;
}
