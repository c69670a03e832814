import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_BATCH_TOKENS } from './core/planner.js';

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
  /** Most padded tokens (rows × longest row) in one batch (issue 5). */
  maxBatchTokens: number;
  maxBodyBytes: number;
  /** Memory supervisor (issue 3): budget = maxMemoryPercent of the effective limit, or maxMemoryMb. */
  maxMemoryPercent: number;
  maxMemoryMb: number | undefined;
  adaptiveBatching: boolean;
  memorySampleMs: number;
  maxPauseMs: number;
  /** Recycle a worker after this many tasks (0: never). */
  workerMaxTasks: number;
  /** Recycle a worker whose estimated footprint passes this many MB (0: never). */
  workerMaxMb: number;
  cgroupRoot: string;
  requestTimeoutMs: number;
  /** Test-only fault injection spec (see src/workers/thread/fault-injection.ts). */
  testFaults: string | undefined;
  /** Production interface (issue 6). */
  maxChunkChars: number;
  maxChunksPerRequest: number;
  maxQueuedChunks: number;
  shutdownTimeoutMs: number;
  shutdownDelayMs: number;
  apiKey: string | undefined;
  /** Browser origins allowed by CORS; empty: CORS off. */
  corsOrigins: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The original service capped ONNX threads at 8; more never helped a model this small. */
export const MAX_ONNX_THREADS = 8;
const MAX_BATCH_SIZE_LIMIT = 1024;
/** Large enough for 20,000 chunks of 2 KB, with room for JSON escaping. */
/**
 * 256 word pieces never need more than a few KB of text; 100,000 characters (a 2,500-line file)
 * accepts any chunker's output, even a whole file, and refuses a mistaken multi-megabyte blob.
 */
const DEFAULT_MAX_CHUNK_CHARS = 100_000;
/** Issue 3's giant repository: one request of 50,000 chunks must go through. */
const DEFAULT_MAX_CHUNKS_PER_REQUEST = 50_000;
/**
 * Room for two giant (50,000-chunk) requests, so small requests still get their round-robin turn
 * while a giant one runs. Each queued chunk holds its text and 1.5 KB of result floats, so the
 * backlog stays under about 150 MB of vectors plus the request bodies (each under the body limit).
 */
const DEFAULT_MAX_QUEUED_CHUNKS = 100_000;
/** Inside `docker stop`'s 10 s grace period (and Kubernetes' 30 s), with room to destroy the pool. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 8_000;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Never echoed in error messages. */
const SECRET_VARIABLES = new Set(['EMBEDDING_API_KEY']);

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
  // 256 tokens (one full row) up to 1,024 rows of 256: any cap from none-in-practice to one row per batch.
  EMBEDDING_MAX_BATCH_TOKENS: int(256, MAX_BATCH_SIZE_LIMIT * 256).default(DEFAULT_MAX_BATCH_TOKENS),
  EMBEDDING_MAX_BODY_BYTES: int(1024, 2 ** 31 - 1).default(DEFAULT_MAX_BODY_BYTES),
  EMBEDDING_MAX_MEMORY_PERCENT: int(1, 100).default(70),
  EMBEDDING_MAX_MEMORY_MB: int(64, 16 * 1024 * 1024).optional(),
  EMBEDDING_ADAPTIVE_BATCHING: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' }))
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v))
    .default(true),
  EMBEDDING_MEMORY_SAMPLE_MS: int(50, 60_000).default(500),
  EMBEDDING_MAX_PAUSE_MS: int(0, 600_000).default(10_000),
  EMBEDDING_WORKER_MAX_TASKS: int(0, 1_000_000_000).default(2000),
  EMBEDDING_WORKER_MAX_MB: int(0, 16 * 1024 * 1024).default(1024),
  EMBEDDING_CGROUP_ROOT: z.string().trim().min(1).default('/sys/fs/cgroup'),
  EMBEDDING_REQUEST_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
  EMBEDDING_TEST_FAULTS: z
    .string()
    .regex(/^(throw|exit):\d+$/, { message: 'test-only; must be throw:N or exit:N' })
    .optional(),
  EMBEDDING_MAX_CHUNK_CHARS: int(1, 2 ** 31 - 1).default(DEFAULT_MAX_CHUNK_CHARS),
  EMBEDDING_MAX_CHUNKS_PER_REQUEST: int(1, 10_000_000).default(DEFAULT_MAX_CHUNKS_PER_REQUEST),
  EMBEDDING_MAX_QUEUED_CHUNKS: int(1, 100_000_000).default(DEFAULT_MAX_QUEUED_CHUNKS),
  EMBEDDING_SHUTDOWN_TIMEOUT_MS: int(0, 3_600_000).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
  EMBEDDING_SHUTDOWN_DELAY_MS: int(0, 600_000).default(0),
  EMBEDDING_API_KEY: z
    .string()
    .regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces (it is sent as a Bearer token)' })
    .optional(),
  EMBEDDING_CORS_ORIGIN: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter((o) => o.length > 0))
    .pipe(
      z.array(
        z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, { message: 'must be * or a comma-separated list of origins like https://app.example.com' }),
      ),
    )
    .default([]),
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
      const shown = SECRET_VARIABLES.has(name) ? '(hidden)' : JSON.stringify(env[name]);
      return `  ${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.EMBEDDING_MIN_BATCH_SIZE > e.EMBEDDING_MAX_BATCH_SIZE) {
    throw new ConfigError(
      `Invalid configuration:\n  EMBEDDING_MIN_BATCH_SIZE (${e.EMBEDDING_MIN_BATCH_SIZE}) must not exceed EMBEDDING_MAX_BATCH_SIZE (${e.EMBEDDING_MAX_BATCH_SIZE})`,
    );
  }
  if (e.EMBEDDING_MAX_CHUNKS_PER_REQUEST > e.EMBEDDING_MAX_QUEUED_CHUNKS) {
    throw new ConfigError(
      `Invalid configuration:\n  EMBEDDING_MAX_CHUNKS_PER_REQUEST (${e.EMBEDDING_MAX_CHUNKS_PER_REQUEST}) must not exceed EMBEDDING_MAX_QUEUED_CHUNKS (${e.EMBEDDING_MAX_QUEUED_CHUNKS}): a request that large would be refused whenever other work is queued`,
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
    maxBatchTokens: e.EMBEDDING_MAX_BATCH_TOKENS,
    maxBodyBytes: e.EMBEDDING_MAX_BODY_BYTES,
    maxMemoryPercent: e.EMBEDDING_MAX_MEMORY_PERCENT,
    maxMemoryMb: e.EMBEDDING_MAX_MEMORY_MB,
    adaptiveBatching: e.EMBEDDING_ADAPTIVE_BATCHING,
    memorySampleMs: e.EMBEDDING_MEMORY_SAMPLE_MS,
    maxPauseMs: e.EMBEDDING_MAX_PAUSE_MS,
    workerMaxTasks: e.EMBEDDING_WORKER_MAX_TASKS,
    workerMaxMb: e.EMBEDDING_WORKER_MAX_MB,
    cgroupRoot: e.EMBEDDING_CGROUP_ROOT,
    requestTimeoutMs: e.EMBEDDING_REQUEST_TIMEOUT_MS,
    testFaults: e.EMBEDDING_TEST_FAULTS,
    maxChunkChars: e.EMBEDDING_MAX_CHUNK_CHARS,
    maxChunksPerRequest: e.EMBEDDING_MAX_CHUNKS_PER_REQUEST,
    maxQueuedChunks: e.EMBEDDING_MAX_QUEUED_CHUNKS,
    shutdownTimeoutMs: e.EMBEDDING_SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: e.EMBEDDING_SHUTDOWN_DELAY_MS,
    apiKey: e.EMBEDDING_API_KEY,
    corsOrigins: e.EMBEDDING_CORS_ORIGIN,
  };
}
