import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';

export interface ServiceStatus {
  ready: boolean;
  startedAt: number;
  model: string;
  variant: 'fp32' | 'int8';
  dimensions: number;
  workers: number;
  threadsPerWorker: number;
  /** The memory supervisor's state (budget, usage, pressure, limits, workers, recycles), when it runs. */
  supervisor?: () => object;
}

/** GET /health: 503 while the model loads, then 200 with what is serving. */
export function healthRoute(status: ServiceStatus): RequestHandler {
  return (_req, res) => {
    res.status(status.ready ? 200 : 503).json({
      status: status.ready ? 'ok' : 'loading',
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
