import type { BatchResult } from '../workers/batch-result.js';
import { linkedAbortController } from './abort.js';
import { allocateRows, runRows, type EmbeddedRows } from './batch-runner.js';
import { embedInOrder, type OrderedEmbedOptions } from './ordered-embed.js';
import { DEFAULT_MAX_BATCH_TOKENS } from './planner.js';
import type { RuntimeLimits } from './runtime-limits.js';
import type { BatchScheduler } from './scheduler.js';

/**
 * What the HTTP layer needs from the embedding core: every vector of a request at once, or window by
 * window in request order. Tests of the HTTP layer hand it a stub.
 */
export interface EmbedService {
  readonly dims: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbeddedRows>;
  stream(texts: readonly string[], signal?: AbortSignal, options?: OrderedEmbedOptions): AsyncGenerator<EmbeddedRows, void, undefined>;
}

/** Turns a request's texts into batches, runs them through the scheduler and puts results back in order. */
export class Embedder implements EmbedService {
  constructor(
    private readonly scheduler: BatchScheduler<BatchResult>,
    private readonly limits: RuntimeLimits,
    readonly dims: number,
    /** EMBEDDING_MAX_BATCH_TOKENS: most padded tokens in one batch, from estimated token counts. */
    private readonly maxBatchTokens = DEFAULT_MAX_BATCH_TOKENS,
  ) {}

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbeddedRows> {
    // Backpressure: refuse before allocating anything; runRows' submits follow in the same tick.
    this.scheduler.admit(texts.length);
    const rows = allocateRows(0, texts.length, this.dims);
    // One failed batch fails the request, so its other batches are withdrawn rather than left to run.
    const { controller: abandon, unlink } = linkedAbortController(signal);
    try {
      await runRows(this.scheduler, this.limits, texts, rows, { owner: {}, signal: abandon.signal, maxBatchTokens: this.maxBatchTokens });
    } catch (error) {
      abandon.abort(error);
      throw error;
    } finally {
      unlink();
    }
    return rows;
  }

  /**
   * The same vectors as embed(), handed out window by window in request order as they finish, for
   * streamed responses: memory stays bounded by two windows whatever the request's size.
   */
  stream(texts: readonly string[], signal?: AbortSignal, options?: OrderedEmbedOptions): AsyncGenerator<EmbeddedRows, void, undefined> {
    return embedInOrder(this.scheduler, this.limits, this.dims, texts, signal, { maxBatchTokens: this.maxBatchTokens, ...options });
  }
}
