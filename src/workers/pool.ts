import { Piscina } from 'piscina';
import { viewBatchResult, type BatchResult } from './batch-result.js';
import type { EmbedTask, WorkerSettings } from './embed-worker.js';

export interface PoolOptions extends WorkerSettings {
  workers: number;
}

/** The worker threads, each with its own ONNX session; the only code that talks to Piscina. */
export class EmbeddingPool {
  readonly #piscina: Piscina<EmbedTask, ArrayBuffer>;
  readonly #dims: number;

  constructor(options: PoolOptions, onError: (error: Error) => void) {
    const { workers, ...settings } = options;
    this.#dims = settings.dims;
    this.#piscina = new Piscina<EmbedTask, ArrayBuffer>({
      filename: new URL('./embed-worker.js', import.meta.url).href,
      minThreads: workers,
      maxThreads: workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: settings satisfies WorkerSettings,
    });
    this.#piscina.on('error', onError);
  }

  get workers(): number {
    return this.#piscina.options.maxThreads;
  }

  /**
   * Runs one small batch on every worker at once, so each has loaded its session (and a broken model
   * is reported) before the service says it is ready.
   */
  async warmUp(): Promise<void> {
    await Promise.all(Array.from({ length: this.workers }, () => this.run(['warm up'])));
  }

  async run(texts: string[], signal?: AbortSignal): Promise<BatchResult> {
    const buffer = await this.#piscina.run({ texts }, signal ? { signal } : {});
    return viewBatchResult(buffer, texts.length, this.#dims);
  }

  async destroy(): Promise<void> {
    await this.#piscina.destroy();
  }
}
