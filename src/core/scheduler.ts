import type { RuntimeLimits } from './runtime-limits.js';

export type RunBatch<T> = (texts: string[], signal?: AbortSignal) => Promise<T>;

interface Job<T> {
  texts: string[];
  signal: AbortSignal | undefined;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/**
 * The queue of batches waiting for a worker, shared by all requests, with at most
 * `limits.concurrency` batches in the pool at once. Requests take turns (round robin), so a one-chunk
 * request is not stuck behind a 50,000-chunk one; within a request, batches keep their order.
 * The queue lives here rather than in Piscina so concurrency can change at run time and a
 * cancelled request's batches leave before they cost anything.
 */
export class BatchScheduler<T> {
  readonly #run: RunBatch<T>;
  readonly #limits: RuntimeLimits;
  /** Waiting jobs per request, in the order requests take turns. */
  readonly #queues = new Map<object, Job<T>[]>();
  #queued = 0;
  #queuedChunks = 0;
  #inFlight = 0;

  constructor(run: RunBatch<T>, limits: RuntimeLimits) {
    this.#run = run;
    this.#limits = limits;
    limits.on('change', () => this.#pump());
  }

  get queued(): number {
    return this.#queued;
  }

  /** Chunks in batches waiting for a worker: the backlog that admission control bounds. */
  get queuedChunks(): number {
    return this.#queuedChunks;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** `owner` groups the batches of one request; any object unique to that request will do. */
  submit(owner: object, texts: string[], signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const job: Job<T> = { texts, signal, resolve, reject };
      signal?.addEventListener('abort', () => this.#cancel(owner, job), { once: true });
      const queue = this.#queues.get(owner);
      if (queue) queue.push(job);
      else this.#queues.set(owner, [job]);
      this.#queued++;
      this.#queuedChunks += texts.length;
      this.#pump();
    });
  }

  #cancel(owner: object, job: Job<T>): void {
    const queue = this.#queues.get(owner);
    const index = queue?.indexOf(job) ?? -1;
    if (index === -1) return; // already running: Piscina sees the same signal
    queue!.splice(index, 1);
    if (queue!.length === 0) this.#queues.delete(owner);
    this.#queued--;
    this.#queuedChunks -= job.texts.length;
    job.reject(job.signal?.reason);
  }

  #next(): Job<T> | undefined {
    const first = this.#queues.entries().next();
    if (first.done) return undefined;
    const [owner, queue] = first.value;
    const job = queue.shift()!;
    // Move this request to the back of the line; drop it once it has nothing left waiting.
    this.#queues.delete(owner);
    if (queue.length > 0) this.#queues.set(owner, queue);
    this.#queued--;
    this.#queuedChunks -= job.texts.length;
    return job;
  }

  #pump(): void {
    while (this.#inFlight < this.#limits.concurrency) {
      const job = this.#next();
      if (!job) return;
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
