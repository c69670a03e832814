import type { BatchResult } from '../workers/batch-result.js';
import { linkedAbortController } from './abort.js';
import { estimateTokens, planBatches } from './planner.js';
import { BatchFailedError } from './embedder.js';
import type { RuntimeLimits } from './runtime-limits.js';
import type { BatchScheduler } from './scheduler.js';

/** Consecutive chunks of a request, embedded: rows `offset … offset + count - 1` in request order. */
export interface EmbeddedWindow {
  offset: number;
  count: number;
  dims: number;
  vectors: Float32Array;
  tokens: Uint16Array;
  truncated: Uint8Array;
}

export interface OrderedEmbedOptions {
  /** Chunks per window; by default four rounds of full batches on every worker. */
  windowSize?: number;
  /** Most padded tokens per batch, from estimated token counts, as embed() plans (EMBEDDING_MAX_BATCH_TOKENS). */
  maxBatchTokens?: number;
}

/**
 * Embeds a request window by window, in request order, for responses that stream as batches finish
 * (NDJSON). Each window is sorted by length and batched on its own, with the batch size and
 * concurrency current when it starts, so a request of any size holds at most two windows of vectors:
 * the one being handed out and the next one, which runs meanwhile so the workers stay busy. The
 * window after that is not submitted until the consumer asks, so a slow reader holds up the work
 * rather than letting results pile up.
 */
export async function* embedInOrder(
  scheduler: BatchScheduler<BatchResult>,
  limits: RuntimeLimits,
  dims: number,
  texts: readonly string[],
  signal?: AbortSignal,
  options: OrderedEmbedOptions = {},
): AsyncGenerator<EmbeddedWindow, void, undefined> {
  const total = texts.length;
  const windowSize = Math.max(1, options.windowSize ?? Math.max(256, limits.maxBatchSize * limits.maxConcurrency * 4));
  const { controller: abandon, unlink } = linkedAbortController(signal);
  const batchSignal = abandon.signal;
  const owner = {};
  let batchesPlanned = 0;

  const runWindow = async (offset: number, count: number): Promise<EmbeddedWindow> => {
    const window: EmbeddedWindow = {
      offset,
      count,
      dims,
      vectors: new Float32Array(count * dims),
      tokens: new Uint16Array(count),
      truncated: new Uint8Array(count),
    };
    const estimates = Array.from({ length: count }, (_, i) => estimateTokens(texts[offset + i]!));
    const plan = planBatches(estimates, {
      minBatchSize: limits.minBatchSize,
      batchSize: limits.batchSize,
      parallelism: limits.concurrency,
      ...(options.maxBatchTokens === undefined ? {} : { maxBatchTokens: options.maxBatchTokens }),
      longestFirst: true,
    });
    const first = batchesPlanned;
    batchesPlanned += plan.length;
    await Promise.all(
      plan.map(async (indices, b) => {
        let result: BatchResult;
        try {
          result = await scheduler.submit(owner, indices.map((i) => texts[offset + i]!), batchSignal);
        } catch (error) {
          if (batchSignal.aborted) throw batchSignal.reason;
          // Numbered across the request's windows so far.
          throw new BatchFailedError(first + b, first + plan.length, { cause: error });
        }
        indices.forEach((target, row) => {
          window.vectors.set(result.vectors.subarray(row * dims, (row + 1) * dims), target * dims);
          window.tokens[target] = result.tokens[row]!;
          window.truncated[target] = result.truncated[row]!;
        });
      }),
    );
    return window;
  };

  const pending: Promise<EmbeddedWindow>[] = [];
  let next = 0;
  const launch = () => {
    if (next >= total) return;
    const count = Math.min(windowSize, total - next);
    const promise = runWindow(next, count);
    promise.catch(() => undefined); // observed when its turn comes; never an unhandled rejection
    pending.push(promise);
    next += count;
  };

  // Backpressure applies to what this request queues at once: its first two windows.
  scheduler.admit(Math.min(total, 2 * windowSize));
  let finished = false;
  try {
    launch();
    launch();
    while (pending.length > 0) {
      const window = await pending.shift()!;
      launch();
      yield window;
    }
    finished = true;
  } finally {
    // A failure, or a consumer that stopped early: withdraw whatever is still queued.
    if (!finished) abandon.abort(new Error('the ordered embedding stream was closed early'));
    unlink();
  }
}
