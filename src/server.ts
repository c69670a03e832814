/**
 * Entry point: `node dist/src/server.js`. Reads config, checks the model files, starts the service
 * and exits non-zero with a message naming the fix when any of that fails.
 */
import { readFileSync } from 'node:fs';
import { createTerminus } from '@godaddy/terminus';
import path from 'node:path';
import { ConfigError, parseConfig } from './config.js';
import { createLogger } from './logger.js';
import { defaultModelDir, projectRoot } from './model/files.js';
import { ModelFilesError, verifyModelDir } from './model/verify.js';
import { startService } from './service.js';

function fail(message: string): never {
  process.stderr.write(`doctown-embed: ${message}\n`);
  process.exit(1);
}

let config;
try {
  config = parseConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const logger = createLogger(config.logLevel);

let model;
try {
  // A directory the user names is used as is; our own download is held to the manifest.
  model = config.modelDir
    ? await verifyModelDir(path.resolve(config.modelDir), config.modelVariant, { checkHashes: false })
    : await verifyModelDir(defaultModelDir(), config.modelVariant, { checkHashes: true });
} catch (error) {
  if (error instanceof ModelFilesError) fail(error.message);
  throw error;
}

const { version } = JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
const service = await startService(config, model, logger, version);

service.ready.then(
  () => logger.info({ load_ms: Date.now() - service.status.startedAt }, 'model loaded; ready'),
  (err: unknown) => {
    if (service.lifecycle.draining) return; // a signal arrived while loading: the pool was destroyed on purpose
    logger.fatal({ err }, 'the ONNX session failed to load');
    fail(`the model could not be loaded (${err instanceof Error ? err.message : String(err)}). Run \`npm run model:fetch\` or point EMBEDDING_MODEL_DIR at a valid model directory.`);
  },
);

/**
 * Graceful shutdown on SIGTERM and SIGINT, with @godaddy/terminus (and stoppable underneath) doing
 * the connection plumbing:
 *  1. /ready turns 503 at once; for EMBEDDING_SHUTDOWN_DELAY_MS the server still serves, so a load
 *     balancer has time to notice before connections are refused;
 *  2. the listener closes and idle keep-alive connections are ended; requests in flight finish,
 *     each response closing its connection, for up to EMBEDDING_SHUTDOWN_TIMEOUT_MS, after which
 *     the remaining connections are destroyed (their queued batches are withdrawn);
 *  3. in worker mode, jobs in hand finish, their results are published and they are acknowledged (fetching
 *     stopped at the signal);
 *  4. the worker pool is destroyed and the process exits 0 (1 if any step fails).
 */
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
for (const signal of SIGNALS) {
  process.once(signal, () => {
    service.lifecycle.draining = true;
    // Worker mode: no new jobs from now on; those in hand finish and are acknowledged in service.close().
    service.queue?.stopFetching();
    logger.info(
      { signal, delay_ms: config.shutdownDelayMs, timeout_ms: config.shutdownTimeoutMs },
      'shutting down: draining',
    );
    // A last resort should a step hang: never outlive the orchestrator's grace period silently.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownDelayMs + config.shutdownTimeoutMs + 30_000).unref();
  });
}
createTerminus(service.server, {
  signals: [...SIGNALS],
  useExit0: true,
  timeout: config.shutdownTimeoutMs,
  beforeShutdown: async () => {
    // /ready already answers 503 (set by the listener above, which runs first).
    if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    logger.info('closing the listener; waiting for requests in flight');
  },
  onSignal: async () => {
    await service.close();
    logger.info('worker pool destroyed');
  },
  onShutdown: async () => logger.info('shutdown complete'),
  logger: (msg, err) => logger.error({ err }, msg),
});

// Announced only now that the signal handlers are in place: a supervisor (or test) that sends SIGTERM as
// soon as it sees this line must reach them, not the default action that kills the process outright.
logger.info({ url: service.url, workers: config.workers, threads_per_worker: config.threadsPerWorker, variant: config.modelVariant }, 'listening; loading model');
