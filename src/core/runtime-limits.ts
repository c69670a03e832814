import { EventEmitter } from 'node:events';

/**
 * The one place batch size and pool concurrency are read from. Start-up sets them from config; the
 * memory supervisor changes them at run time, and the scheduler reacts to 'change' at once.
 */
export class RuntimeLimits extends EventEmitter<{ change: [] }> {
  readonly minBatchSize: number;
  readonly maxBatchSize: number;
  readonly maxConcurrency: number;
  #batchSize: number;
  #concurrency: number;
  #paused = false;

  constructor(options: { minBatchSize: number; maxBatchSize: number; maxConcurrency: number }) {
    super();
    this.minBatchSize = options.minBatchSize;
    this.maxBatchSize = options.maxBatchSize;
    this.maxConcurrency = options.maxConcurrency;
    this.#batchSize = options.maxBatchSize;
    this.#concurrency = options.maxConcurrency;
  }

  /** Largest number of chunks one worker task may hold right now. */
  get batchSize(): number {
    return this.#batchSize;
  }

  set batchSize(value: number) {
    this.#batchSize = clamp(Math.round(value), this.minBatchSize, this.maxBatchSize);
    this.emit('change');
  }

  /** Batches allowed in flight across the whole pool right now. */
  get concurrency(): number {
    return this.#concurrency;
  }

  set concurrency(value: number) {
    this.#concurrency = clamp(Math.round(value), 1, this.maxConcurrency);
    this.emit('change');
  }

  /**
   * True while no new batch may start (memory over budget at the floor): batches already running
   * finish, queued ones wait. The supervisor bounds how long this lasts.
   */
  get paused(): boolean {
    return this.#paused;
  }

  set paused(value: boolean) {
    if (this.#paused === value) return;
    this.#paused = value;
    this.emit('change');
  }

  /** Memory readings changed (a sample was taken): batches waiting for headroom are looked at again. */
  recheck(): void {
    this.emit('change');
  }
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
