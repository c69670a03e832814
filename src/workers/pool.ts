import { Piscina } from 'piscina';
import { viewBatchResult, type BatchResult } from './batch-result.js';
import { chooseWorker } from './dispatch.js';
import type { EmbedTask, WorkerSettings, WorkerStats } from './thread/embed-worker.js';
import type { IdleThreads } from './thread/inference.js';
import { unpackWindows, type TextWindows, type WindowSpec } from './window-result.js';

export interface PoolOptions extends WorkerSettings {
  workers: number;
  /**
   * Intra-op threads of the lone worker, an extra worker whose session runs a batch with every core
   * when it is the only work in the pool (dispatch.ts); 0 or absent: no lone worker.
   */
  loneThreads?: number;
  /** How the lone worker's idle intra-op threads wait (workers/thread/inference.ts); unset: onnxruntime's default. */
  loneIdleThreads?: IdleThreads | undefined;
}

/** `regular`: one of the `workers` throughput workers; `lone`: the whole-machine worker for a lone batch. */
export type WorkerRole = 'regular' | 'lone';

export interface WorkerSnapshot {
  id: number;
  role: WorkerRole;
  state: 'starting' | 'ready' | 'recycling';
  busy: boolean;
  tasks: number;
  /** Heap and external memory of the worker's isolate plus its arena estimate. */
  estimatedBytes: number;
  /** What its ONNX session holds for the largest batch it has run (the batch memory model, model/spec.ts). */
  arenaBytes: number;
  peakBatchTokens: number;
}

interface Slot {
  id: number;
  role: WorkerRole;
  piscina: Piscina<EmbedTask, ArrayBuffer>;
  state: 'starting' | 'ready' | 'recycling';
  busy: boolean;
  tasks: number;
  /** When this slot last took a batch (a counter, not a clock); 0 if never. */
  lastTaken: number;
  stats: WorkerStats | undefined;
  /** Resolves when the slot is ready (after a start or a recycle). */
  started: Promise<void>;
}

interface Waiter {
  resolve: (slot: Slot) => void;
  reject: (reason: unknown) => void;
}

/**
 * The worker threads, each with its own ONNX session; the only code that talks to Piscina.
 *
 * Each worker is a one-thread Piscina of its own (a "slot"), so the pool knows which worker runs
 * which task and can recycle one: Piscina has no API to retire a single thread of a pool (its
 * maintainers suggest closing the pool and making a new one, piscinajs/piscina#512), and a
 * one-thread pool is exactly that unit. Recycling a slot stops giving it work, waits for its task
 * to finish (`close()` lets running tasks complete), then starts a fresh worker, which frees the old
 * session's ONNX arena. Tasks wait here for a free slot in FIFO order, so none is lost or reordered.
 *
 * With `loneThreads`, one more slot holds a session with that many intra-op threads and takes a batch
 * only when it is the only work in the pool (dispatch.ts): a lone short request then runs on every
 * core instead of one. It is a slot like the others for the supervisor: it is in the snapshot (its
 * isolate and arena counted), it loads before the pool is warm (so the idle footprint includes its
 * weights) and it can be recycled.
 */
export class EmbeddingPool {
  readonly #settings: WorkerSettings;
  readonly #loneThreads: number;
  readonly #loneIdleThreads: IdleThreads | undefined;
  /** A deferred look at the queue is pending (see DispatchView.settled). */
  #deferred = false;
  readonly #onError: (error: Error) => void;
  readonly #slots: Slot[] = [];
  readonly #waiting: Waiter[] = [];
  #recycles = 0;
  #destroyed = false;
  #nextId = 0;
  /** Runs waiting for or holding a worker; the pool is idle at 0. */
  #active = 0;
  #idleSince = Date.now();
  #taken = 0;

  constructor(options: PoolOptions, onError: (error: Error) => void) {
    const { workers, loneThreads = 0, loneIdleThreads, ...settings } = options;
    this.#settings = settings;
    this.#loneThreads = loneThreads;
    this.#loneIdleThreads = loneIdleThreads;
    this.#onError = onError;
    for (let i = 0; i < workers; i++) this.#slots.push(this.#startSlot('regular'));
    if (loneThreads > 0) this.#slots.push(this.#startSlot('lone'));
  }

  #startSlot(role: WorkerRole): Slot {
    const settings: WorkerSettings = role === 'lone' ? { ...this.#settings, intraOpThreads: this.#loneThreads, idleThreads: this.#loneIdleThreads } : this.#settings;
    const piscina = new Piscina<EmbedTask, ArrayBuffer>({
      filename: new URL('./thread/embed-worker.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: settings,
    });
    const slot: Slot = { id: this.#nextId++, role, piscina, state: 'starting', busy: false, tasks: 0, lastTaken: 0, stats: undefined, started: Promise.resolve() };
    piscina.on('error', (err: Error) => this.#onError(err));
    piscina.on('message', (message: unknown) => {
      if (isWorkerStats(message)) slot.stats = message;
    });
    // The first task loads the session; until it has, the slot takes no work from the queue.
    slot.started = piscina.run({ texts: ['warm up'] }).then(
      () => {
        slot.state = 'ready';
        this.#dispatch();
      },
      (error: unknown) => {
        slot.state = 'ready';
        this.#dispatch();
        throw error;
      },
    );
    slot.started.catch(() => undefined);
    return slot;
  }

  /** Regular workers: the batches that can run at once under load (the lone worker is not one of them). */
  get workers(): number {
    return this.#slots.filter((s) => s.role === 'regular').length;
  }

  get recycles(): number {
    return this.#recycles;
  }

  snapshot(): WorkerSnapshot[] {
    return this.#slots.map((slot) => {
      const arena = slot.stats?.arenaBytes ?? 0;
      const isolate = slot.stats ? slot.stats.heapUsed + slot.stats.external : 0;
      return {
        id: slot.id,
        role: slot.role,
        state: slot.state,
        busy: slot.busy,
        tasks: slot.tasks,
        estimatedBytes: isolate + arena,
        arenaBytes: arena,
        peakBatchTokens: slot.stats?.peakBatchTokens ?? 0,
      };
    });
  }

  /**
   * Resolves when every worker has loaded the model. A broken model is reported only once every worker has finished
   * trying: the process exits on it, and exiting while another worker is still inside onnxruntime's session
   * constructor aborts it (a native error thrown during teardown, exit code 134 instead of 1).
   */
  async warmUp(): Promise<void> {
    const failed = (await Promise.allSettled(this.#slots.map((slot) => slot.started))).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Milliseconds since the last batch finished with nothing else running or waiting; 0 while busy. */
  idleForMs(): number {
    return this.#active > 0 ? 0 : Date.now() - this.#idleSince;
  }

  /**
   * Runs one batch on the next free worker. There is no way to cancel it once started: a worker
   * terminated inside onnxruntime aborts the process at exit (the scheduler withdraws queued batches instead).
   */
  async run(texts: string[]): Promise<BatchResult> {
    this.#active++;
    try {
      const slot = await this.#acquire();
      try {
        const buffer = await slot.piscina.run({ texts });
        slot.tasks++;
        return viewBatchResult(buffer, texts.length, this.#settings.dims);
      } finally {
        slot.busy = false;
        this.#dispatch();
      }
    } finally {
      if (--this.#active === 0) this.#idleSince = Date.now();
    }
  }

  /**
   * Cuts long texts into windows on a worker, which tokenizes them (thread/windows.ts): the ranges come back, not
   * vectors. It waits for a free worker like a batch; tokenizing alone holds no ONNX memory, so it is not a batch the
   * scheduler or the memory gate need to see. A worker that fails is asked once more, as batches are.
   */
  async windows(texts: string[], spec: WindowSpec): Promise<TextWindows[]> {
    const once = async (): Promise<TextWindows[]> => {
      this.#active++;
      try {
        const slot = await this.#acquire();
        try {
          return unpackWindows(await slot.piscina.run({ texts, windows: spec }), texts.length);
        } finally {
          slot.busy = false;
          this.#dispatch();
        }
      } finally {
        if (--this.#active === 0) this.#idleSince = Date.now();
      }
    };
    try {
      return await once();
    } catch {
      return once();
    }
  }

  /**
   * Runs `texts` within the current batch size: a batch planned before the supervisor shrank the
   * batch size goes to the workers in pieces of the new size, one after another in the same
   * scheduler slot, and comes back as one result in the original order.
   */
  async runWithin(limits: { readonly batchSize: number }, texts: string[], maxRows = Number.POSITIVE_INFINITY): Promise<BatchResult> {
    const pieceRows = Math.max(1, Math.min(limits.batchSize, maxRows));
    if (texts.length <= pieceRows) return this.run(texts);
    const dims = this.#settings.dims;
    const parts: BatchResult[] = [];
    for (let start = 0; start < texts.length; ) {
      const size = Math.max(1, Math.min(limits.batchSize, maxRows));
      parts.push(await this.run(texts.slice(start, start + size)));
      start += size;
    }
    const out: BatchResult = {
      vectors: new Float32Array(texts.length * dims),
      tokens: new Uint16Array(texts.length),
      truncated: new Uint8Array(texts.length),
    };
    let row = 0;
    for (const part of parts) {
      out.vectors.set(part.vectors, row * dims);
      out.tokens.set(part.tokens, row);
      out.truncated.set(part.truncated, row);
      row += part.tokens.length;
    }
    return out;
  }

  #acquire(): Promise<Slot> {
    if (this.#destroyed) return Promise.reject(new Error('the worker pool is shut down'));
    return new Promise<Slot>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(settled = false): void {
    while (this.#waiting.length > 0) {
      // The free worker that took a batch most recently, whose caches still hold its session's
      // weights and buffers: sequential short chunks ran 6% faster at the median than when the two
      // workers took turns (median 0.94x over 8 alternating runs of 100; BENCHMARKS.md, "Which worker takes a lone request").
      // Under load every worker is busy and the choice never arises.
      const freeSlots = this.#slots.filter((s) => s.state === 'ready' && !s.busy);
      const regular = freeSlots.filter((s) => s.role === 'regular').sort((a, b) => b.lastTaken - a.lastTaken)[0];
      const lone = freeSlots.find((s) => s.role === 'lone');
      const choice = chooseWorker({
        waiting: this.#waiting.length,
        running: this.#slots.filter((s) => s.busy).length,
        loneFree: lone !== undefined,
        regularFree: regular !== undefined,
        settled,
      });
      if (choice === 'defer') {
        if (!this.#deferred) {
          this.#deferred = true;
          queueMicrotask(() => {
            this.#deferred = false;
            this.#dispatch(true);
          });
        }
        return;
      }
      const free = choice === 'lone' ? lone : choice === 'regular' ? regular : undefined;
      if (!free) return;
      const waiter = this.#waiting.shift()!;
      free.busy = true;
      free.lastTaken = ++this.#taken;
      waiter.resolve(free);
    }
  }

  /**
   * Retires worker `id` once its current task (if any) has finished and starts a fresh one in its
   * place. Resolves when the replacement has loaded the model.
   */
  async recycle(id: number): Promise<void> {
    const index = this.#slots.findIndex((s) => s.id === id);
    const old = this.#slots[index];
    if (!old || old.state !== 'ready' || this.#destroyed) return;
    old.state = 'recycling';
    while (old.busy) await new Promise((resolve) => setTimeout(resolve, 5));
    await old.piscina.close();
    await old.piscina.destroy();
    if (this.#destroyed) return;
    const fresh = this.#startSlot(old.role);
    this.#slots[index] = fresh;
    this.#recycles++;
    await fresh.started;
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error('the worker pool is shut down'));
    await Promise.all(this.#slots.map((s) => s.piscina.destroy()));
  }
}

function isWorkerStats(message: unknown): message is WorkerStats {
  return typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'worker-stats';
}
