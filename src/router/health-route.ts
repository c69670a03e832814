import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';

export interface ServiceStatus {
  ready: boolean;
  startedAt: number;
  model: string;
  variant: 'fp32' | 'int8';
  dimensions: number;
  /** EMBEDDING_MAX_SEQ_LENGTH. */
  maxSeqLength: number;
  workers: number;
  threadsPerWorker: number;
  /** The memory supervisor's state (budget, usage, pressure, limits, workers, recycles), when it runs. */
  supervisor?: () => object;
}

/**
 * GET /health: 200 `{status: "healthy", model_loaded: true, embedding_dim: 384, …}` once every worker has loaded the
 * model, as the original worker answered; before that 503 `{status: "loading", model_loaded: false, …}`. The original
 * loaded its model before it listened, so its clients never saw a loading answer: they saw a refused connection, which
 * every one of them treats as not healthy, as they treat a 503. /ready stays the readiness probe (it also fails while
 * draining).
 */
export function healthRoute(status: ServiceStatus): RequestHandler {
  return (_req, res) => {
    res.status(status.ready ? 200 : 503).json({
      status: status.ready ? 'healthy' : 'loading',
      model_loaded: status.ready,
      embedding_dim: status.dimensions,
      max_seq_length: status.maxSeqLength,
      model: status.model,
      variant: status.variant,
      dimensions: status.dimensions,
      workers: status.workers,
      threads_per_worker: status.threadsPerWorker,
      uptime_s: Math.round((Date.now() - status.startedAt) / 100) / 10,
      ...(status.supervisor ? { supervisor: status.supervisor() } : {}),
    });
  };
}

/** Refuses work until every worker has its model loaded. */
export function requireReady(status: ServiceStatus): RequestHandler {
  return (_req, _res, next) => {
    next(status.ready ? undefined : new ApiError('model_loading', 'the model is still loading; retry shortly'));
  };
}

/** GET /: the original worker's connectivity check (its deployments and scripts probe it), answered the same. */
export const rootRoute: RequestHandler = (_req, res) => {
  res.json({ service: 'doctown-embedding-worker', status: 'running' });
};
