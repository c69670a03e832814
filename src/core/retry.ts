import type { Logger } from 'pino';

export type BatchRunner<T> = (texts: string[], signal?: AbortSignal) => Promise<T>;

/**
 * A batch whose worker threw or died is run once more before the request fails: Piscina has already
 * replaced a dead thread by then, so a crash that took one worker down costs a retry, not a request.
 * The retry stays inside the scheduler's slot, so it never raises concurrency. A batch the client
 * abandoned is not retried.
 */
export function retryOnce<T>(run: BatchRunner<T>, logger: Pick<Logger, 'warn'>): BatchRunner<T> {
  return async (texts, signal) => {
    try {
      return await run(texts, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      logger.warn({ err: error, chunks: texts.length }, 'batch failed on a worker; retrying once');
      return run(texts, signal);
    }
  };
}
