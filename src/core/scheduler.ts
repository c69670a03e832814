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

/**
 * A batch that can never fit the memory budget, not even one row on a fresh worker: its request
 * fails with this (507 insufficient_memory), the process does not.
 */
export class InsufficientMemoryError extends Error {
  override name = 'InsufficientMemoryError';
  readonly code = 'insufficient_memory';
}

/** What the gate lets a batch do now; see DispatchGate. */
export interface Grant {
  /** Rows that may run at once: all of the batch, fewer (it runs in pieces of that many), 0 (wait), -1 (never). */
  rows: number;
  /** Called when the batch has finished, whatever the outcome: its reservation ends. */
  release: () => void;
  /** Why it can never fit, with the numbers, when `rows` is -1. */
  reason?: string;
}

/**
 * Asked before every batch starts, so no batch starts that the memory budget cannot hold
 * (supervisor/headroom-gate.ts). Absent, every batch may start.
 */
export interface DispatchGate {
  acquire(texts: readonly string[]): Grant;
}

export interface SchedulerOptions {
  /** Most chunks allowed to wait for a worker (admission control); unbounded when omitted. */
  maxQueuedChunks?: number;
  /** Memory headroom check before each batch starts. */
  gate?: DispatchGate;
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
  readonly #gate: DispatchGate | undefined;

  constructor(run: RunBatch<T>, limits: RuntimeLimits, options: SchedulerOptions = {}) {
    this.#run = run;
    this.#limits = limits;
    this.#maxQueuedChunks = options.maxQueuedChunks ?? Number.POSITIVE_INFINITY;
    this.#gate = options.gate;
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

  /**
   * The next batch that may start, in the requests' round-robin order, with what the gate grants it.
   * A request whose next batch must wait for memory keeps its turn while a later request's batch
   * that fits goes ahead: a one-chunk request is not held up by a giant batch waiting for headroom.
   * A batch that can never fit is failed here.
   */
  #next(): { job: Job<T>; grant: Grant } | undefined {
    for (const [owner, queue] of this.#queues) {
      const grant = this.#gate?.acquire(queue[0]!.texts) ?? { rows: queue[0]!.texts.length, release: () => undefined };
      if (grant.rows === 0) continue;
      const job = this.#take(owner, queue);
      if (grant.rows > 0) return { job, grant };
      job.reject(new InsufficientMemoryError(grant.reason ?? 'this batch cannot fit the memory budget'));
      this.#notifyIdle();
      return this.#next();
    }
    return undefined;
  }

  #take(owner: object, queue: Job<T>[]): Job<T> {
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
      const next = this.#next();
      if (!next) return;
      const { job, grant } = next;
      this.#inFlight++;
      // A running batch is not cancelled, only waiting ones are: onnxruntime-node aborts the whole
      // process at exit (SIGABRT) once a worker thread has been terminated mid-inference, and one
      // batch is short. So the pool never sees the request's signal.
      this.#run(job.texts, grant.rows < job.texts.length ? grant.rows : undefined)
        .then(job.resolve, job.reject)
        .finally(() => {
          grant.release();
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
