import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Embedder } from '../core/embedder.js';
import { embedRoute } from './embed-route.js';
import { ApiError, errorHandler, notFound } from './errors.js';
import { healthRoute, requireReady, type ServiceStatus } from './health-route.js';
import { openApiDocument } from './openapi.js';

export interface AppDependencies {
  embedder: Embedder;
  status: ServiceStatus;
  logger: Logger;
  maxBodyBytes: number;
  version: string;
}

/** POST bodies must be JSON: anything else would reach the handlers unparsed. */
const requireJson: RequestHandler = (req, _res, next) => {
  next(req.is('application/json') ? undefined : new ApiError(415, 'unsupported_media_type', 'send the body as Content-Type: application/json'));
};

export function createApp(deps: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const document = openApiDocument(deps.version);
  // strict: false lets a JSON `null` or `"text"` body through to validation, which names the problem.
  const parseJson = express.json({ limit: deps.maxBodyBytes, strict: false });

  app.get('/health', healthRoute(deps.status));
  app.get('/openapi.json', (_req, res) => void res.json(document));
  app.post('/embed', requireJson, parseJson, requireReady(deps.status), embedRoute(deps.embedder, deps.status.model));
  app.use(notFound);
  app.use(errorHandler(deps.logger, deps.maxBodyBytes));
  return app;
}
