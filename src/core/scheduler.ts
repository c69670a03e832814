import type { RuntimeLimits } from './runtime-limits.js';

export type RunBatch<T> = (texts: string[], signal?: AbortSignal) => Promise<T>;

interface Job<T> {
  texts: string[];
  signal: AbortSignal | undefined;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/**
 * One FIFO queue of batches shared by all requests, with at most `limits.concurrency` batches in the
 * pool at once. Keeping the queue here rather than in Piscina lets the concurrency change at run time
 * and lets a cancelled request's batches leave the queue before they cost anything.
 */
export class BatchScheduler<T> {
  readonly #run: RunBatch<T>;
  readonly #limits: RuntimeLimits;
  #queue: Job<T>[] = [];
  #inFlight = 0;

  constructor(run: RunBatch<T>, limits: RuntimeLimits) {
    this.#run = run;
    this.#limits = limits;
    limits.on('change', () => this.#pump());
  }

  get queued(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  submit(texts: string[], signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const job: Job<T> = { texts, signal, resolve, reject };
      signal?.addEventListener('abort', () => this.#cancel(job), { once: true });
      this.#queue.push(job);
      this.#pump();
    });
  }

  #cancel(job: Job<T>): void {
    const index = this.#queue.indexOf(job);
    if (index === -1) return; // already running: Piscina sees the same signal
    this.#queue.splice(index, 1);
    job.reject(job.signal?.reason);
  }

  #pump(): void {
    while (this.#inFlight < this.#limits.concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#inFlight++;
      this.#run(job.texts, job.signal)
        .then(job.resolve, job.reject)
        .finally(() => {
          this.#inFlight--;
          this.#pump();
        });
    }
  }
}
