/**
 * Entry point: `node dist/src/server.js`. Reads config, checks the model files, starts the service
 * and exits non-zero with a message naming the fix when any of that fails.
 */
import { readFileSync } from 'node:fs';
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
logger.info({ url: service.url, workers: config.workers, threads_per_worker: config.threadsPerWorker, variant: config.modelVariant }, 'listening; loading model');

service.ready.then(
  () => logger.info({ load_ms: Date.now() - service.status.startedAt }, 'model loaded; ready'),
  (err: unknown) => {
    logger.fatal({ err }, 'the ONNX session failed to load');
    fail(`the model could not be loaded (${err instanceof Error ? err.message : String(err)}). Run \`npm run model:fetch\` or point EMBEDDING_MODEL_DIR at a valid model directory.`);
  },
);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
