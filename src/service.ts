import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Embedder } from './core/embedder.js';
import { RuntimeLimits } from './core/runtime-limits.js';
import { BatchScheduler } from './core/scheduler.js';
import { MODEL_ID } from './model/files.js';
import { createApp } from './router/app.js';
import type { ServiceStatus } from './router/health-route.js';
import type { BatchResult } from './workers/batch-result.js';
import { EmbeddingPool } from './workers/pool.js';

export const DIMENSIONS = 384;

export interface ModelPaths {
  graphPath: string;
  tokenizerPath: string;
}

export interface Service {
  server: Server;
  url: string;
  status: ServiceStatus;
  limits: RuntimeLimits;
  /** Resolves when every worker has loaded the model; rejects if one cannot. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Wires the pieces together and starts listening at once, so /health can answer 503 while the
 * workers load the model.
 */
export async function startService(config: Config, model: ModelPaths, logger: Logger, version: string): Promise<Service> {
  const pool = new EmbeddingPool(
    { workers: config.workers, intraOpThreads: config.threadsPerWorker, dims: DIMENSIONS, ...model },
    (err) => logger.error({ err }, 'worker pool error'),
  );
  const limits = new RuntimeLimits({
    minBatchSize: config.minBatchSize,
    maxBatchSize: config.maxBatchSize,
    maxConcurrency: config.workers,
  });
  const scheduler = new BatchScheduler<BatchResult>((texts, signal) => pool.run(texts, signal), limits);
  const embedder = new Embedder(scheduler, limits, DIMENSIONS);
  const status: ServiceStatus = {
    ready: false,
    startedAt: Date.now(),
    model: MODEL_ID,
    variant: config.modelVariant,
    dimensions: DIMENSIONS,
    workers: config.workers,
    threadsPerWorker: config.threadsPerWorker,
  };
  const app = createApp({ embedder, status, logger, maxBodyBytes: config.maxBodyBytes, version });
  const server = app.listen(config.port, config.host);
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  const ready = pool.warmUp().then(() => {
    status.ready = true;
  });

  return {
    server,
    url,
    status,
    limits,
    ready,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.destroy();
    },
  };
}
