import { setMaxListeners } from 'node:events';
import type { RunBatch } from './run-batch.js';
import type { RuntimeLimits } from './runtime-limits.js';

/**
 * A request refused at the door because the backlog is full: the caller answers 503 with
 * Retry-After, and nothing reached the pool.
 */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  readonly code = 'overloaded';
  constructor(
    readonly requested: number,
    readonly queued: number,
    readonly limit: number,
  ) {
    super(`the queue holds ${queued} chunks; ${requested} more would exceed EMBEDDING_MAX_QUEUED_CHUNKS (${limit})`);
  }
}

export interface SchedulerOptions {
  /** Most chunks allowed to wait for a worker (admission control); unbounded when omitted. */
  maxQueuedChunks?: number;
}

interface Job<T> {
  texts: string[];
  signal: AbortSignal | undefined;
  /** Its listener on `signal`, removed when the job leaves the queue so the signal does not keep the texts alive. */
  onAbort: () => void;
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
  #cancelledChunks = 0;
  #inFlight = 0;
  readonly #maxQueuedChunks: number;

  constructor(run: RunBatch<T>, limits: RuntimeLimits, options: SchedulerOptions = {}) {
    this.#run = run;
    this.#limits = limits;
    this.#maxQueuedChunks = options.maxQueuedChunks ?? Number.POSITIVE_INFINITY;
    limits.on('change', () => this.#pump());
  }

  get queued(): number {
    return this.#queued;
  }

  /** Chunks withdrawn from the queue since start because their request was abandoned, before any worker ran them. */
  get cancelledChunks(): number {
    return this.#cancelledChunks;
  }

  /** Chunks in batches waiting for a worker: the backlog that admission control bounds. */
  get queuedChunks(): number {
    return this.#queuedChunks;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get maxQueuedChunks(): number {
    return this.#maxQueuedChunks;
  }

  /**
   * Admission control: throws QueueFullError when `count` more chunks would push the backlog past
   * `maxQueuedChunks`. Call it in the same synchronous step as the request's submit() calls, so no
   * other request can slip in between. An empty queue always admits, so a request larger than the
   * limit is delayed by nothing but is never starved; the backlog is then at most one request over.
   */
  admit(count: number): void {
    if (this.#queuedChunks > 0 && this.#queuedChunks + count > this.#maxQueuedChunks) {
      throw new QueueFullError(count, this.#queuedChunks, this.#maxQueuedChunks);
    }
  }

  /** `owner` groups the batches of one request; any object unique to that request will do. */
  submit(owner: object, texts: string[], signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const job: Job<T> = { texts, signal, onAbort: () => this.#cancel(owner, job), resolve, reject };
      // Every waiting batch of a request listens on the request's one signal: that is not a leak.
      if (signal) setMaxListeners(0, signal);
      signal?.addEventListener('abort', job.onAbort, { once: true });
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
    if (index === -1) return; // already running: it finishes, and the request ignores its result
    queue!.splice(index, 1);
    if (queue!.length === 0) this.#queues.delete(owner);
    this.#queued--;
    this.#queuedChunks -= job.texts.length;
    this.#cancelledChunks += job.texts.length;
    job.reject(job.signal?.reason);
    this.#notifyIdle();
  }

  #next(): Job<T> | undefined {
    const first = this.#queues.entries().next();
    if (first.done) return undefined;
    const [owner, queue] = first.value;
    const job = queue.shift()!;
    job.signal?.removeEventListener('abort', job.onAbort);
    // Move this request to the back of the line; drop it once it has nothing left waiting.
    this.#queues.delete(owner);
    if (queue.length > 0) this.#queues.set(owner, queue);
    this.#queued--;
    this.#queuedChunks -= job.texts.length;
    return job;
  }

  #pump(): void {
    while (!this.#limits.paused && this.#inFlight < this.#limits.concurrency) {
      const job = this.#next();
      if (!job) return;
      this.#inFlight++;
      // A running batch is not cancelled, only waiting ones are: onnxruntime-node aborts the whole
      // process at exit (SIGABRT) once a worker thread has been terminated mid-inference, and one
      // batch is short. So the pool never sees the request's signal.
      this.#run(job.texts)
        .then(job.resolve, job.reject)
        .finally(() => {
          this.#inFlight--;
          this.#pump();
          this.#notifyIdle();
        });
    }
  }

  #idleWaiters: Array<() => void> = [];

  /**
   * Resolves once nothing is queued or running. Shutdown awaits it before destroying the pool, so no
   * worker is terminated mid-inference (see #pump).
   */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0 && this.#queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #notifyIdle(): void {
    if (this.#inFlight !== 0 || this.#queued !== 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
