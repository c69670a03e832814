/** A minimal worker pool for the in-process measurements: one task per worker at a time, FIFO. */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { defaultModelDir, graphFileName, TOKENIZER_FILE, type ModelVariant } from '../../src/model/files.js';
import type { OrtReply, OrtTask, OrtWorkerData, OrtWorkerMessage } from './ort-protocol.js';

export const MODEL_DIR = defaultModelDir();
export const TOKENIZER_PATH = path.join(MODEL_DIR, TOKENIZER_FILE);
export const graphPath = (variant: ModelVariant): string => path.join(MODEL_DIR, graphFileName(variant));

export interface OrtResult extends OrtReply {
  /** Time from handing the batch to a worker to its reply, in ms. */
  wallMs: number;
}

interface Job {
  task: OrtTask & { id: number };
  resolve(result: OrtResult): void;
  reject(error: Error): void;
  started?: number;
}

export interface OrtPoolOptions {
  workers: number;
  threads: number;
  variant?: ModelVariant;
  spin?: boolean;
}

export class OrtPool {
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: Job[] = [];
  readonly #pending = new Map<number, Job>();
  #next = 0;

  static async start({ workers, threads, variant = 'fp32', spin = true }: OrtPoolOptions): Promise<OrtPool> {
    const pool = new OrtPool();
    const workerData: OrtWorkerData = { graphPath: graphPath(variant), tokenizerPath: TOKENIZER_PATH, threads, spin };
    await Promise.all(
      Array.from({ length: workers }, () => {
        const w = new Worker(new URL('./ort-worker.js', import.meta.url), { workerData });
        pool.#workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.once('error', reject);
          w.once('message', (m: OrtWorkerMessage) => {
            if (!('ready' in m)) return reject(new Error('worker did not start'));
            w.on('message', (msg: OrtWorkerMessage) => pool.#done(w, msg));
            pool.#idle.push(w);
            resolve();
          });
        });
      }),
    );
    return pool;
  }

  run(task: OrtTask): Promise<OrtResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ task: { ...task, id: this.#next++ }, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const w = this.#idle.shift()!;
      const job = this.#queue.shift()!;
      this.#pending.set(job.task.id, job);
      job.started = performance.now();
      w.postMessage(job.task);
    }
  }

  #done(worker: Worker, msg: OrtWorkerMessage): void {
    if ('ready' in msg) return;
    const job = this.#pending.get(msg.id)!;
    this.#pending.delete(msg.id);
    this.#idle.push(worker);
    this.#pump();
    if ('error' in msg) job.reject(new Error(msg.error));
    else job.resolve({ ...msg, wallMs: performance.now() - job.started! });
  }

  /** Every batch of `plan` (lists of indices into `rows`, pre-tokenized) at once; the results and the wall time. */
  async runPlan(plan: readonly number[][], rows: readonly number[][]): Promise<{ results: OrtResult[]; wallS: number }> {
    const t0 = performance.now();
    const results = await Promise.all(plan.map((b) => this.run({ rows: b.map((i) => rows[i]!) })));
    return { results, wallS: (performance.now() - t0) / 1000 };
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
