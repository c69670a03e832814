/**
 * The real HTTP layer in the test process: createApp and createHttpServer as src/service.ts wires
 * them, configured from the same environment variables as the server, with real Metrics, logger,
 * auth, limits and error handling, but a stub EmbedService in place of the worker pool and model.
 * Tests of validation, error shapes, the OpenAPI document, hostile input, auth, CORS and metrics run
 * here in milliseconds; what depends on the model stays in test/e2e/ against the real server.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { TestFn } from 'ava';
import { pino } from 'pino';
import { parseConfig, type Config } from '../src/config.js';
import { allocateRows, type EmbeddedRows } from '../src/core/batch-runner.js';
import type { EmbedService } from '../src/core/embedder.js';
import type { OrderedEmbedOptions, TextWindows } from '../src/core/ordered-embed.js';
import { QueueFullError } from '../src/core/scheduler.js';
import { Metrics, type QueueSource } from '../src/metrics.js';
import { DIMENSIONS, MAX_SEQ_LENGTH, MODEL_ID } from '../src/model/spec.js';
import { refuseUnderMemoryPressure, type MemoryAdmission } from '../src/router/admission.js';
import { createApp } from '../src/router/app.js';
import type { ServiceStatus } from '../src/router/health-route.js';
import { createHttpServer } from '../src/router/http-server.js';
import { ndjsonHeldBytes, ndjsonLineLimit } from '../src/router/ndjson-body.js';
import type { Lifecycle } from '../src/router/ready-route.js';
import { postJson } from './server.js';

/** A deterministic unit vector for `text` (FNV-1a seed, xorshift stream): equal texts, equal vectors; different texts, different ones. */
export function stubVector(text: string, dims = DIMENSIONS): Float32Array {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const vector = new Float32Array(dims);
  let norm = 0;
  for (let d = 0; d < dims; d++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    vector[d] = seed / 0xffffffff - 0.5;
    norm += vector[d]! * vector[d]!;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let d = 0; d < dims; d++) vector[d]! *= scale;
  return vector;
}

/** A stand-in for the tokenizer's count: [CLS] + one piece per word + [SEP], cut at the model's 256. */
export function stubTokens(text: string): { tokens: number; truncated: boolean } {
  const pieces = 2 + (text.match(/\S+/g)?.length ?? 0);
  return { tokens: Math.min(pieces, MAX_SEQ_LENGTH), truncated: pieces > MAX_SEQ_LENGTH };
}

interface Failure {
  error: unknown;
  /** For stream(): rows handed out before the error (0: before the first window). */
  afterRows: number;
}

/**
 * An EmbedService without a model. Like the real Embedder it admits a request's chunks against
 * EMBEDDING_MAX_QUEUED_CHUNKS (QueueFullError past it), counts what it embeds in the batch metrics,
 * and drops work whose client went away; tests can hold admitted work in its queue and make the next
 * call fail with any error (a BatchFailedError, say).
 */
export class StubEmbedder implements EmbedService, QueueSource {
  readonly dims = DIMENSIONS;
  queuedChunks = 0;
  queued = 0;
  cancelledChunks = 0;
  inFlight = 0;
  private readonly failures: Failure[] = [];
  private gate: Promise<void> | undefined;

  constructor(
    readonly maxQueuedChunks: number,
    private readonly metrics: Metrics,
    private readonly batchSize: number,
  ) {}

  /** The next call fails with `error`; a stream first hands out `afterRows` rows. */
  failNext(error: unknown, afterRows = 0): void {
    this.failures.push({ error, afterRows });
  }

  /** Admitted work waits in the queue until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbeddedRows> {
    const failure = this.admit(texts.length);
    await this.queue(texts.length, signal);
    if (failure) throw failure.error;
    return this.rows(texts, 0, texts.length);
  }

  async *stream(texts: readonly string[], signal?: AbortSignal, options?: OrderedEmbedOptions): AsyncGenerator<EmbeddedRows, void, undefined> {
    const failure = this.admit(texts.length);
    await this.queue(texts.length, signal);
    const windowSize = Math.max(1, options?.windowSize ?? 64);
    for (let offset = 0; offset < texts.length; offset += windowSize) {
      if (failure && failure.afterRows <= offset) throw failure.error;
      signal?.throwIfAborted();
      yield this.rows(texts, offset, Math.min(windowSize, texts.length - offset));
    }
    if (failure) throw failure.error;
  }

  readonly windowSize = 64;

  /** Window by window as the source hands them out; each waits in the queue while held (hold()). */
  async *streamFrom(source: TextWindows, signal?: AbortSignal): AsyncGenerator<EmbeddedRows, void, undefined> {
    const failure = this.admit(0);
    let offset = 0;
    let finished = false;
    try {
      for (let texts = await source.next(Promise.resolve()); texts !== undefined; texts = await source.next(Promise.resolve())) {
        if (failure && failure.afterRows <= offset) throw failure.error;
        await this.queue(texts.length, signal);
        signal?.throwIfAborted();
        const rows = this.rows(texts, 0, texts.length);
        rows.offset = offset;
        offset += texts.length;
        yield rows;
      }
      if (failure) throw failure.error;
      finished = true;
    } finally {
      if (!finished) source.close?.();
    }
  }

  /** Refuses past the queue limit before anything else, as Embedder does; returns the failure planned for this call. */
  private admit(count: number): Failure | undefined {
    if (this.queuedChunks + count > this.maxQueuedChunks) throw new QueueFullError(count, this.queuedChunks, this.maxQueuedChunks);
    return this.failures.shift();
  }

  private async queue(count: number, signal: AbortSignal | undefined): Promise<void> {
    if (!this.gate) return;
    this.queuedChunks += count;
    this.queued++;
    try {
      await new Promise<void>((resolve, reject) => {
        const abandon = () => reject(signal!.reason);
        signal?.addEventListener('abort', abandon, { once: true });
        void this.gate!.then(() => {
          signal?.removeEventListener('abort', abandon);
          resolve();
        });
      });
    } catch (error) {
      this.cancelledChunks += count;
      throw error;
    } finally {
      this.queuedChunks -= count;
      this.queued--;
    }
  }

  private rows(texts: readonly string[], offset: number, count: number): EmbeddedRows {
    const rows = allocateRows(offset, count, this.dims);
    for (let row = 0; row < count; row++) {
      const text = texts[offset + row]!;
      rows.vectors.set(stubVector(text, this.dims), row * this.dims);
      const { tokens, truncated } = stubTokens(text);
      rows.tokens[row] = tokens;
      rows.truncated[row] = truncated ? 1 : 0;
    }
    // Counted in batches of the configured size, as the worker pool's observer counts real ones.
    for (let start = 0; start < count; start += this.batchSize) {
      const size = Math.min(this.batchSize, count - start);
      const tokens = rows.tokens.subarray(start, start + size).reduce((a, b) => a + b, 0);
      this.metrics.batchDone('ok', 0, size, tokens);
    }
    return rows;
  }
}

export interface RunningApp {
  url: string;
  host: string;
  port: number;
  config: Config;
  server: Server;
  embedder: StubEmbedder;
  /** Set `ready` false to answer as while the model loads. */
  status: ServiceStatus;
  /** Set `draining` as a signal would. */
  lifecycle: Lifecycle;
  /** What the memory supervisor tells the admission gate; set `refusing` to simulate memory pressure, `admitRequest` for admission by cost. */
  memory: MemoryAdmission;
  metrics: Metrics;
  /** Every line the logger wrote so far (pino JSON). */
  logs: string[];
  /** POSTs `body` (JSON, or a string as it is) to `path`: status, headers, text and parsed JSON. */
  post(path: string, body: unknown, headers?: Record<string, string>): ReturnType<typeof postJson>;
  close(): Promise<void>;
}

/**
 * Starts the app on 127.0.0.1, port 0, configured by `env` as the server would be (EMBEDDING_API_KEY,
 * limits, timeouts…). The caller closes it.
 */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const config = parseConfig({ LOG_LEVEL: 'info', ...env }, 2);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter((line) => line.length > 0));
      done();
    },
  });
  const logger = pino({ level: config.logLevel, base: { service: 'doctown-embed' } }, sink);
  const metrics = new Metrics();
  const embedder = new StubEmbedder(config.maxQueuedChunks, metrics, config.maxBatchSize);
  metrics.observeQueue(embedder);
  // The supervisor's gauges as a quiet supervisor would report them: its limits at their maxima.
  metrics.observeSupervisor(() => ({ batchSize: config.maxBatchSize, concurrency: config.workers, workers: config.workers, budgetBytes: 2 ** 30 }));
  // As src/service.ts reports it, without a supervisor (so /health has no `supervisor` field), and ready at once.
  const { modelVariant: variant, workers, threadsPerWorker } = config;
  const status: ServiceStatus = {
    ready: true,
    startedAt: Date.now(),
    model: MODEL_ID,
    variant,
    dimensions: DIMENSIONS,
    maxSeqLength: config.maxSeqLength,
    workers,
    threadsPerWorker,
  };
  const lifecycle: Lifecycle = { draining: false };
  const memory: MemoryAdmission = { refusing: false, retryAfterSeconds: 2 };
  const app = createApp({
    embedder,
    status,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    version: '0.0.0-test',
    metrics,
    lifecycle,
    limits: { maxChunks: config.maxChunksPerRequest },
    maxSeqLength: config.maxSeqLength,
    apiKey: config.apiKey,
    corsOrigins: config.corsOrigins,
    maxChunkChars: config.maxChunkChars,
    memoryGate: refuseUnderMemoryPressure(memory, { streamedBodyBytes: ndjsonHeldBytes(ndjsonLineLimit(config.maxChunkChars, config.maxBodyBytes)) }),
  });
  const server = createHttpServer(app, { requestTimeoutMs: config.requestTimeoutMs }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    config,
    server,
    embedder,
    status,
    lifecycle,
    memory,
    metrics,
    logs,
    post: (path, body, headers) => postJson(`http://127.0.0.1:${port}${path}`, body, headers),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * One app for a test file: started before its tests, closed after them. The object returned is
 * filled in by a serial `before` hook (ava runs plain hooks concurrently), so a file's later serial
 * hooks and its tests read it as the running app.
 */
export function useApp(test: TestFn, env: Record<string, string> = {}): RunningApp {
  const app = {} as RunningApp;
  test.serial.before(async () => {
    Object.assign(app, await startApp(env));
  });
  test.after.always(async () => {
    await app.close?.();
  });
  return app;
}
