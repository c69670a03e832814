import os from 'node:os';
import { z } from 'zod';

/**
 * Every setting the service reads from the environment, parsed and validated once at start-up.
 * Names follow the original Python service where it had one.
 */
export interface Config {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** A user-supplied model directory, used as is (no manifest check). */
  modelDir: string | undefined;
  modelVariant: 'fp32' | 'int8';
  workers: number;
  threadsPerWorker: number;
  minBatchSize: number;
  maxBatchSize: number;
  maxBodyBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The original service capped ONNX threads at 8; more never helped a model this small. */
export const MAX_ONNX_THREADS = 8;
const MAX_BATCH_SIZE_LIMIT = 1024;
/** Large enough for 20,000 chunks of 2 KB, with room for JSON escaping. */
const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { message: `must be an integer between ${min} and ${max}` })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` }));

const envSchema = z.object({
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(8000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EMBEDDING_MODEL_DIR: z.string().trim().min(1).optional(),
  EMBEDDING_MODEL_VARIANT: z.enum(['fp32', 'int8']).default('fp32'),
  EMBEDDING_WORKERS: int(1, 256).optional(),
  // Values above the cap are accepted and clamped, as the original did, rather than refused.
  EMBEDDING_ONNX_THREADS: int(1, 1024).optional(),
  EMBEDDING_MIN_BATCH_SIZE: int(1, MAX_BATCH_SIZE_LIMIT).default(8),
  EMBEDDING_MAX_BATCH_SIZE: int(1, MAX_BATCH_SIZE_LIMIT).default(64),
  EMBEDDING_MAX_BODY_BYTES: int(1024, 2 ** 31 - 1).default(DEFAULT_MAX_BODY_BYTES),
});

/**
 * Splits the cores between workers and intra-op threads so that, by default,
 * workers × threads never exceeds the cores available.
 */
export function deriveThreadLayout(
  cores: number,
  workers: number | undefined,
  threads: number | undefined,
): { workers: number; threadsPerWorker: number } {
  const threadsPerWorker = Math.min(threads ?? (workers ? Math.max(1, Math.floor(cores / workers)) : 1), MAX_ONNX_THREADS);
  return { workers: workers ?? Math.max(1, Math.floor(cores / threadsPerWorker)), threadsPerWorker };
}

export function parseConfig(env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): Config {
  // Empty strings mean "unset", as they do in most shells' `VAR= cmd` idiom.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `  ${name}=${JSON.stringify(env[name])}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.EMBEDDING_MIN_BATCH_SIZE > e.EMBEDDING_MAX_BATCH_SIZE) {
    throw new ConfigError(
      `Invalid configuration:\n  EMBEDDING_MIN_BATCH_SIZE (${e.EMBEDDING_MIN_BATCH_SIZE}) must not exceed EMBEDDING_MAX_BATCH_SIZE (${e.EMBEDDING_MAX_BATCH_SIZE})`,
    );
  }
  const layout = deriveThreadLayout(cores, e.EMBEDDING_WORKERS, e.EMBEDDING_ONNX_THREADS);
  return {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    modelDir: e.EMBEDDING_MODEL_DIR,
    modelVariant: e.EMBEDDING_MODEL_VARIANT,
    workers: layout.workers,
    threadsPerWorker: layout.threadsPerWorker,
    minBatchSize: e.EMBEDDING_MIN_BATCH_SIZE,
    maxBatchSize: e.EMBEDDING_MAX_BATCH_SIZE,
    maxBodyBytes: e.EMBEDDING_MAX_BODY_BYTES,
  };
}
