import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createCache } from './cache/create.js';
import { KvTier } from './cache/kv-tier.js';
import type { TieredCache } from './cache/tiered-cache.js';
import type { Config } from './config.js';
import { Embedder } from './core/embedder.js';
import { observeBatches, retryOnce } from './core/run-batch.js';
import { RuntimeLimits } from './core/runtime-limits.js';
import { BatchScheduler } from './core/scheduler.js';
import { Metrics } from './metrics.js';
import { DIMENSIONS, MODEL_ID } from './model/spec.js';
import { QueueWorker } from './queue/worker.js';
import { refuseUnderMemoryPressure } from './router/admission.js';
import { createApp } from './router/app.js';
import type { ServiceStatus } from './router/health-route.js';
import { createHttpServer } from './router/http-server.js';
import { ndjsonHeldBytes, ndjsonLineLimit } from './router/ndjson-body.js';
import type { Lifecycle } from './router/ready-route.js';
import { createSupervisor, readStartBudget, type MemorySupervisor } from './supervisor/create.js';
import { loneWorkerThreads } from './supervisor/lone-worker.js';
import { supervisorGauges } from './supervisor/loop.js';
import type { BatchResult } from './workers/batch-result.js';
import { EmbeddingPool } from './workers/pool.js';
import { parseFaultSpec } from './workers/thread/fault-injection.js';

export interface ModelPaths {
  graphPath: string;
  tokenizerPath: string;
}

export interface Service {
  server: Server;
  url: string;
  status: ServiceStatus;
  limits: RuntimeLimits;
  /** The memory supervisor (issue 3): samples memory, adapts `limits`, recycles workers. */
  supervisor: MemorySupervisor;
  /** `draining` is set on SIGTERM/SIGINT, turning /ready to 503. */
  lifecycle: Lifecycle;
  metrics: Metrics;
  /** The embedding cache (issue 14), absent with EMBEDDING_CACHE=off. */
  cache: TieredCache | undefined;
  /** The NATS worker mode (issue 13), when EMBEDDING_NATS_URL is set: started once the model is loaded. */
  queue: QueueWorker | undefined;
  /** Resolves when every worker has loaded the model; rejects if one cannot. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Wires the pieces together and starts listening at once, so /health can answer 503 while the
 * workers load the model.
 */
export async function startService(config: Config, model: ModelPaths, logger: Logger, version: string): Promise<Service> {
  // The budget is read before the pool exists: whether the lone worker starts depends on it.
  const start = await readStartBudget(config);
  const pool = new EmbeddingPool(
    {
      workers: config.workers,
      intraOpThreads: config.threadsPerWorker,
      loneThreads: loneWorkerThreads(config, start.budget.budgetBytes),
      // The lone worker's idle threads spin briefly within a run and stop when it returns: a lone short text 1.3 ms
      // faster at the median than with sleeping threads (4 alternating pairs through HTTP), the same p99, while
      // onnxruntime's default spinning would go on after the run and take the cores from a busy host's other
      // processes (BENCHMARKS.md, "A lone request against TEI").
      loneIdleThreads: 'brief',
      dims: DIMENSIONS,
      maxSeqLength: config.maxSeqLength,
      faults: parseFaultSpec(config.testFaults),
      ...model,
    },
    (err) => logger.error({ err }, 'worker pool error'),
  );
  const limits = new RuntimeLimits({
    minBatchSize: config.minBatchSize,
    maxBatchSize: config.maxBatchSize,
    maxConcurrency: config.workers,
  });
  const metrics = new Metrics();
  // The cache's memory tier is counted in the budget and shrunk first under pressure, so the supervisor holds it.
  // In the queue's worker mode a JetStream bucket shared by every worker is the third tier, after memory and disk.
  const shared =
    config.cache && config.nats && config.cacheKvMb > 0
      ? [KvTier.open({ servers: config.nats.servers, bucket: config.cacheKvBucket, maxBytes: config.cacheKvMb * 1024 * 1024, dims: DIMENSIONS, logger })]
      : [];
  const built = createCache(config, model, DIMENSIONS, logger, shared);
  const supervisor = await createSupervisor(config, { limits, pool, logger, cache: built?.memory, start });
  const scheduler = new BatchScheduler<BatchResult>(
    observeBatches(
      retryOnce((texts, maxRows) => pool.runWithin(limits, texts, maxRows), logger),
      metrics,
    ),
    limits,
    { maxQueuedChunks: config.maxQueuedChunks, gate: supervisor.gate },
  );
  metrics.observeQueue(scheduler);
  const lifecycle: Lifecycle = { draining: false };
  metrics.observeSupervisor(() => supervisorGauges(supervisor.report()));
  const embedder = new Embedder(
    scheduler,
    limits,
    DIMENSIONS,
    config.maxBatchTokens,
    {
      maxSeqLength: config.maxSeqLength,
      maxTextChars: config.maxChunkChars,
      longInput: {
        mode: config.longInput,
        overlap: config.windowOverlap,
        maxWindows: config.maxWindowsPerChunk,
        cut: (texts, spec) => pool.windows(texts, spec),
      },
    },
    built?.cache,
  );
  if (built) metrics.observeCache(() => built.cache.stats());
  const status: ServiceStatus = {
    ready: false,
    startedAt: Date.now(),
    model: MODEL_ID,
    variant: config.modelVariant,
    dimensions: DIMENSIONS,
    maxSeqLength: config.maxSeqLength,
    workers: config.workers,
    threadsPerWorker: config.threadsPerWorker,
    supervisor: () => supervisor.report(),
  };
  const queue = config.nats
    ? new QueueWorker({
        config: config.nats,
        embedder,
        limits,
        memory: supervisor,
        maxChunks: config.maxChunksPerRequest,
        modelId: MODEL_ID,
        logger,
      })
    : undefined;
  if (queue) metrics.observeNats(() => queue.state());
  const app = createApp({
    embedder,
    status,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    version,
    metrics,
    lifecycle,
    limits: { maxChunks: config.maxChunksPerRequest },
    maxSeqLength: config.maxSeqLength,
    apiKey: config.apiKey,
    corsOrigins: config.corsOrigins,
    queueState: queue ? () => queue.state() : undefined,
    maxChunkChars: config.maxChunkChars,
    // A streamed body costs its window, not its length.
    memoryGate: refuseUnderMemoryPressure(supervisor, { streamedBodyBytes: ndjsonHeldBytes(ndjsonLineLimit(config.maxChunkChars, config.maxBodyBytes)) }),
  });
  const server = createHttpServer(app, { requestTimeoutMs: config.requestTimeoutMs }).listen(config.port, config.host);
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  const ready = pool.warmUp().then(() => {
    status.ready = true;
    supervisor.start();
    // Jobs are taken only once the model can run them; a signal while loading leaves the queue untouched.
    if (!lifecycle.draining) queue?.start();
  });

  return {
    server,
    url,
    status,
    limits,
    supervisor,
    lifecycle,
    metrics,
    cache: built?.cache,
    queue,
    ready,
    async close() {
      // Jobs in hand finish and are acknowledged (their results published) before the pool goes.
      await queue?.close();
      // On a signal the server is already closed by the shutdown plumbing (server.ts); then only the pool is left.
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      // Loading and running batches finish first: a worker terminated inside onnxruntime crashes the process at exit.
      await ready.catch(() => undefined);
      await scheduler.whenIdle();
      supervisor.stop();
      await built?.cache.close(); // the disk tier's queued writes land before exit
      await pool.destroy();
    },
  };
}
