import type { Logger } from 'pino';
import type { BatchResult } from '../workers/batch-result.js';

/**
 * Runs one batch of texts on a worker: the one type the scheduler, its wrappers and the pool share.
 * `maxRows`, when given, is the most rows that may run at once (what the memory headroom allows):
 * the batch then runs in pieces of that many, one after another, and comes back whole. It takes no
 * AbortSignal on purpose: a worker terminated inside onnxruntime aborts the whole process at exit,
 * so a batch that has started always runs to the end; only batches still queued are withdrawn (by
 * the scheduler).
 */
export type RunBatch<T = BatchResult> = (texts: string[], maxRows?: number) => Promise<T>;

/**
 * A batch whose worker threw or died is run once more before the request fails: Piscina has already
 * replaced a dead thread by then, so a crash that took one worker down costs a retry, not a request.
 * The retry stays inside the scheduler's slot, so it never raises concurrency. A batch whose client
 * has gone is retried too (it is already running; its result is then ignored).
 */
export function retryOnce<T>(run: RunBatch<T>, logger: Pick<Logger, 'warn'>): RunBatch<T> {
  return async (texts, maxRows) => {
    try {
      return await run(texts, maxRows);
    } catch (error) {
      logger.warn({ err: error, chunks: texts.length }, 'batch failed on a worker; retrying once');
      return run(texts, maxRows);
    }
  };
}

/** What is told about every batch that ran: the metrics' seam. */
export interface BatchObserver {
  batchDone(outcome: 'ok' | 'error', seconds: number, rows: number, tokens: number): void;
}

/** Wraps a batch runner so every batch is reported to `observer`, counted and timed. */
export function observeBatches(run: RunBatch, observer: BatchObserver): RunBatch {
  return async (texts, maxRows) => {
    const started = performance.now();
    try {
      const result = await run(texts, maxRows);
      let tokens = 0;
      for (const t of result.tokens) tokens += t;
      observer.batchDone('ok', (performance.now() - started) / 1000, texts.length, tokens);
      return result;
    } catch (error) {
      observer.batchDone('error', (performance.now() - started) / 1000, texts.length, 0);
      throw error;
    }
  };
}
