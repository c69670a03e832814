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
 * Where a streamed request's texts come from, a window at a time: an array (embedInOrder), or a request body still being
 * read (an NDJSON body, router/ndjson-body.ts), whose length is not known until it ends.
 */
export interface TextWindows {
  /**
   * The next window's texts (at most a window), or undefined once there are no more. May wait for input. `idle`
   * resolves once every window handed out so far has finished: a source with something buffered should hand it out
   * then rather than leave the workers without work from this request. Concurrent calls are answered in call order.
   */
  next(idle: Promise<void>): readonly string[] | undefined | Promise<readonly string[] | undefined>;
  /** The stream stopped before the source ended (a failure, or the consumer went away): stop reading and let go. */
  close?(): void;
}

/** An array's texts, window by window, all at once. */
function arrayWindows(texts: readonly string[], windowSize: number): TextWindows {
  let next = 0;
  return {
    next() {
      if (next >= texts.length) return undefined;
      const count = Math.min(windowSize, texts.length - next);
      next += count;
      return texts.slice(next - count, next);
    },
  };
}

/**
 * Embeds a request window by window, in request order, for responses that stream as batches finish
 * (NDJSON). Each window is sorted by length and batched on its own, with the batch size and
 * concurrency current when it starts, so a request of any size holds at most two windows of vectors:
 * the one being handed out and the next one, which runs meanwhile so the workers stay busy. The
 * window after that is not submitted until the consumer asks, so a slow reader holds up the work
 * rather than letting results pile up.
 */
export function embedInOrder(
  scheduler: BatchScheduler<BatchResult>,
  limits: RuntimeLimits,
  dims: number,
  texts: readonly string[],
  signal?: AbortSignal,
  options: OrderedEmbedOptions = {},
): AsyncGenerator<EmbeddedRows, void, undefined> {
  const windowSize = Math.max(1, options.windowSize ?? defaultWindowSize(limits));
  // Backpressure applies to what this request queues at once: its first two windows.
  return embedWindows(scheduler, limits, dims, arrayWindows(texts, windowSize), Math.min(texts.length, 2 * windowSize), signal, options);
}

/**
 * The same, for texts that arrive while earlier ones are embedded (a streamed request body): windows are taken from
 * `source` as the pipeline has room, so the texts in memory are at most the source's buffer plus three windows (the
 * one handed out and the two behind it), whatever the request's length.
 */
export function embedStreamInOrder(
  scheduler: BatchScheduler<BatchResult>,
  limits: RuntimeLimits,
  dims: number,
  source: TextWindows,
  signal?: AbortSignal,
  options: OrderedEmbedOptions = {},
): AsyncGenerator<EmbeddedRows, void, undefined> {
  const windowSize = Math.max(1, options.windowSize ?? defaultWindowSize(limits));
  return embedWindows(scheduler, limits, dims, source, 2 * windowSize, signal, options);
}

async function* embedWindows(
  scheduler: BatchScheduler<BatchResult>,
  limits: RuntimeLimits,
  dims: number,
  source: TextWindows,
  admitted: number,
  signal: AbortSignal | undefined,
  options: OrderedEmbedOptions,
): AsyncGenerator<EmbeddedRows, void, undefined> {
  const maxBatchTokens = options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS;
  const { controller: abandon, unlink } = linkedAbortController(signal);
  const owner = {};
  const planned = { batches: 0 };
  const run = options.run ?? runRows;
  let offset = 0;
  /** Windows submitted and not yet finished, for the source's `idle`. */
  const running = new Set<Promise<unknown>>();
  const idle = () => Promise.allSettled([...running]).then(() => undefined);

  const runWindow = (texts: readonly string[] | undefined): Promise<EmbeddedRows> | undefined => {
    if (texts === undefined || texts.length === 0) return undefined;
    const window = allocateRows(0, texts.length, dims);
    const at = offset;
    offset += texts.length;
    const done = run(scheduler, limits, texts, window, { owner, signal: abandon.signal, maxBatchTokens, maxSeqLength: options.maxSeqLength, planned }).then(() => {
      window.offset = at;
      return window;
    });
    running.add(done);
    void done.finally(() => running.delete(done)).catch(() => undefined);
    return done;
  };

  // Each entry is a window in request order; undefined once the source has ended.
  const pending: Promise<EmbeddedRows | undefined>[] = [];
  let ended = false;
  const launch = () => {
    if (ended || abandon.signal.aborted) return;
    const texts = source.next(idle());
    // An array's windows are submitted at once, in the same tick as the admission check.
    const promise = texts instanceof Promise ? texts.then(runWindow) : Promise.resolve(runWindow(texts));
    promise.then((w) => (ended ||= w === undefined), () => (ended = true));
    promise.catch(() => undefined); // observed when its turn comes; never an unhandled rejection
    pending.push(promise);
  };

  scheduler.admit(admitted);
  let finished = false;
  try {
    launch();
    launch();
    while (pending.length > 0) {
      const window = await pending.shift()!;
      if (window === undefined) continue;
      launch();
      yield window;
    }
    finished = true;
  } finally {
    // A failure, or a consumer that stopped early: withdraw whatever is still queued, and stop the source.
    if (!finished) {
      abandon.abort(new Error('the ordered embedding stream was closed early'));
      source.close?.();
    }
    unlink();
  }
}
