import type { BatchResult } from '../workers/batch-result.js';
import { linkedAbortController } from './abort.js';
import { DEFAULT_MAX_BATCH_TOKENS, estimateTokens, planBatches } from './planner.js';
import { embedInOrder, type EmbeddedWindow, type OrderedEmbedOptions } from './ordered-embed.js';
import type { RuntimeLimits } from './runtime-limits.js';
import type { BatchScheduler } from './scheduler.js';

/** Every chunk's vector, token count and truncation flag, in request order. */
export interface Embeddings {
  count: number;
  dims: number;
  vectors: Float32Array;
  tokens: Uint16Array;
  truncated: Uint8Array;
}

export class BatchFailedError extends Error {
  override name = 'BatchFailedError';
  constructor(
    readonly batch: number,
    readonly batches: number,
    options: { cause: unknown },
  ) {
    super(`batch ${batch + 1} of ${batches} failed: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
  }
}

/** Turns a request's texts into batches, runs them through the scheduler and puts results back in order. */
export class Embedder {
  constructor(
    private readonly scheduler: BatchScheduler<BatchResult>,
    private readonly limits: RuntimeLimits,
    readonly dims: number,
    /** EMBEDDING_MAX_BATCH_TOKENS: most padded tokens in one batch, from estimated token counts. */
    private readonly maxBatchTokens = DEFAULT_MAX_BATCH_TOKENS,
  ) {}

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Embeddings> {
    const count = texts.length;
    // Backpressure: refuse before allocating anything; the submits below follow in the same tick.
    this.scheduler.admit(count);
    const out: Embeddings = {
      count,
      dims: this.dims,
      vectors: new Float32Array(count * this.dims),
      tokens: new Uint16Array(count),
      truncated: new Uint8Array(count),
    };
    // Token counts are estimated: the workers tokenize, so the main thread never does (issue 5).
    const plan = planBatches(texts.map(estimateTokens), {
      minBatchSize: this.limits.minBatchSize,
      batchSize: this.limits.batchSize,
      parallelism: this.limits.concurrency,
      maxBatchTokens: this.maxBatchTokens,
      longestFirst: true,
    });
    // One failed batch fails the request, so its other batches are withdrawn rather than left to run.
    const { controller: abandon, unlink } = linkedAbortController(signal);
    const owner = {};
    const batchSignal = abandon.signal;
    try {
      await Promise.all(
        plan.map(async (indices, b) => {
          let result: BatchResult;
          try {
            result = await this.scheduler.submit(owner, indices.map((i) => texts[i]!), batchSignal);
          } catch (error) {
            if (batchSignal.aborted) throw batchSignal.reason;
            throw new BatchFailedError(b, plan.length, { cause: error });
          }
          indices.forEach((target, row) => {
            out.vectors.set(result.vectors.subarray(row * this.dims, (row + 1) * this.dims), target * this.dims);
            out.tokens[target] = result.tokens[row]!;
            out.truncated[target] = result.truncated[row]!;
          });
        }),
      );
    } catch (error) {
      abandon.abort(error);
      throw error;
    } finally {
      unlink();
    }
    return out;
  }

  /**
   * The same vectors as embed(), handed out window by window in request order as they finish, for
   * streamed responses: memory stays bounded by two windows whatever the request's size.
   */
  stream(texts: readonly string[], signal?: AbortSignal, options?: OrderedEmbedOptions): AsyncGenerator<EmbeddedWindow, void, undefined> {
    // Backpressure: a stream queues about two windows at a time, so that is what it must find room for.
    const window = options?.windowSize ?? Math.max(256, this.limits.maxBatchSize * this.limits.maxConcurrency * 4);
    this.scheduler.admit(Math.min(texts.length, 2 * window));
    return embedInOrder(this.scheduler, this.limits, this.dims, texts, signal, { maxBatchTokens: this.maxBatchTokens, ...options });
  }
}
