import type { BatchResult } from '../workers/batch-result.js';
import { estimateTokens, planBatches } from './planner.js';
import type { RuntimeLimits } from './runtime-limits.js';
import { InsufficientMemoryError, type BatchScheduler } from './scheduler.js';

/** Consecutive chunks of a request, embedded: rows `offset … offset + count - 1` in request order. */
export interface EmbeddedRows {
  offset: number;
  count: number;
  dims: number;
  vectors: Float32Array;
  tokens: Uint16Array;
  truncated: Uint8Array;
  /** Rows served from the embedding cache rather than computed (core/cached-rows.ts); absent: none. */
  cached?: number;
  /** 1 for each row served from the cache, when a cache was asked (long-input.ts counts a chunk cached when all its windows were). */
  cachedRows?: Uint8Array;
  /** Each chunk's windows, in long-input `windows` mode only (long-input.ts). */
  windows?: WindowVector[][];
}

/** One window of a chunk in `windows` mode: its range in the chunk's text, its tokens and its vector. */
export interface WindowVector {
  /** UTF-16 code units, [start, end), in the text as embedded (after EMBEDDING_MAX_CHUNK_CHARS). */
  start: number;
  end: number;
  tokens: number;
  vector: Float32Array;
}

export function allocateRows(offset: number, count: number, dims: number): EmbeddedRows {
  return { offset, count, dims, vectors: new Float32Array(count * dims), tokens: new Uint16Array(count), truncated: new Uint8Array(count) };
}

export class BatchFailedError extends Error {
  override name = 'BatchFailedError';
  readonly code = 'batch_failed';
  constructor(
    readonly batch: number,
    readonly batches: number,
    options: { cause: unknown },
  ) {
    super(`batch ${batch + 1} of ${batches} failed: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
  }
}

export interface RunRowsOptions {
  /** Groups the request's batches in the scheduler (its round-robin turn); one object per request. */
  owner: object;
  /** Aborts the request's queued batches (a failed sibling batch, or the client gone). */
  signal: AbortSignal;
  /** EMBEDDING_MAX_BATCH_TOKENS: most padded tokens in one batch, from estimated token counts. */
  maxBatchTokens: number;
  /** EMBEDDING_MAX_SEQ_LENGTH: the most tokens any text is estimated at (the workers cut there); MAX_SEQ_LENGTH when absent. */
  maxSeqLength?: number | undefined;
  /** The request's count of batches planned so far, shared by its calls, so a failure is numbered across the whole request. */
  planned?: { batches: number };
}

/**
 * The one plan → submit → scatter step both the buffered and the streamed responses use: plans
 * `rows`' texts with the limits current now, submits every batch to the scheduler, and writes each
 * result back into `rows` in request order. Planning and submitting happen before the first await,
 * in the same tick as the caller's admission check.
 */
export async function runRows(
  scheduler: BatchScheduler<BatchResult>,
  limits: RuntimeLimits,
  texts: readonly string[],
  rows: EmbeddedRows,
  options: RunRowsOptions,
): Promise<void> {
  const { offset, count, dims } = rows;
  // Token counts are estimated: the workers tokenize, so the main thread never does.
  const estimates = Array.from({ length: count }, (_, i) => estimateTokens(texts[offset + i]!, options.maxSeqLength));
  const plan = planBatches(estimates, {
    minBatchSize: limits.minBatchSize,
    batchSize: limits.batchSize,
    parallelism: limits.concurrency,
    maxBatchTokens: options.maxBatchTokens,
    longestFirst: true,
  });
  const planned = options.planned ?? { batches: 0 };
  const first = planned.batches;
  planned.batches += plan.length;
  const { signal } = options;
  await Promise.all(
    plan.map(async (indices, b) => {
      let result: BatchResult;
      try {
        result = await scheduler.submit(options.owner, indices.map((i) => texts[offset + i]!), signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        // Not a worker's failure: the budget cannot hold it, and the client is told so as it is.
        if (error instanceof InsufficientMemoryError) throw error;
        throw new BatchFailedError(first + b, first + plan.length, { cause: error });
      }
      indices.forEach((target, row) => {
        rows.vectors.set(result.vectors.subarray(row * dims, (row + 1) * dims), target * dims);
        rows.tokens[target] = result.tokens[row]!;
        rows.truncated[target] = result.truncated[row]!;
      });
    }),
  );
}
