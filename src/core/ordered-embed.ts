import type { BatchResult } from '../workers/batch-result.js';
import { linkedAbortController } from './abort.js';
import { allocateRows, runRows, type EmbeddedRows } from './batch-runner.js';
import type { RowRunner } from './cached-rows.js';
import { DEFAULT_MAX_BATCH_TOKENS } from './planner.js';
import type { RuntimeLimits } from './runtime-limits.js';
import type { BatchScheduler } from './scheduler.js';

export interface OrderedEmbedOptions {
  /** Chunks per window; by default four rounds of full batches on every worker (defaultWindowSize). */
  windowSize?: number;
  /** Most padded tokens per batch, from estimated token counts, as embed() plans (EMBEDDING_MAX_BATCH_TOKENS). */
  maxBatchTokens?: number;
  /** EMBEDDING_MAX_SEQ_LENGTH, for the token estimates. */
  maxSeqLength?: number | undefined;
  /** How a window's rows are filled: runRows, or runRows behind the embedding cache (cached-rows.ts). */
  run?: RowRunner;
}

/** Four rounds of full batches on every worker, and never fewer than 256 chunks. */
export function defaultWindowSize(limits: RuntimeLimits): number {
  return Math.max(256, limits.maxBatchSize * limits.maxConcurrency * 4);
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
): AsyncGenerator<EmbeddedRows, void, undefined> {
  const total = texts.length;
  const windowSize = Math.max(1, options.windowSize ?? defaultWindowSize(limits));
  const maxBatchTokens = options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS;
  const { controller: abandon, unlink } = linkedAbortController(signal);
  const owner = {};
  const planned = { batches: 0 };
  const run = options.run ?? runRows;

  const runWindow = async (offset: number, count: number): Promise<EmbeddedRows> => {
    const window = allocateRows(offset, count, dims);
    await run(scheduler, limits, texts, window, { owner, signal: abandon.signal, maxBatchTokens, maxSeqLength: options.maxSeqLength, planned });
    return window;
  };

  const pending: Promise<EmbeddedRows>[] = [];
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
