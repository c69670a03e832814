/** A minimal worker pool for the in-process measurements: one task per worker at a time, FIFO. */
import { Worker } from 'node:worker_threads';
import { ROOT } from '../corpus.mjs';

export const MODEL_DIR = `${ROOT}/models/all-MiniLM-L6-v2`;
export const graphPath = (variant) => `${MODEL_DIR}/${variant === 'int8' ? 'model_int8.onnx' : 'model.onnx'}`;

export class OrtPool {
  #workers = [];
  #idle = [];
  #queue = [];
  #pending = new Map();
  #next = 0;

  static async start({ workers, threads, variant = 'fp32', spin = true }) {
    const pool = new OrtPool();
    await Promise.all(
      Array.from({ length: workers }, () => {
        const w = new Worker(new URL('./ort-worker.mjs', import.meta.url), {
          workerData: { graph: graphPath(variant), tokenizerPath: `${MODEL_DIR}/tokenizer.json`, threads, dist: `${ROOT}/dist`, spin },
        });
        pool.#workers.push(w);
        return new Promise((resolve, reject) => {
          w.once('error', reject);
          w.once('message', (m) => {
            if (!m.ready) return reject(new Error('worker did not start'));
            w.on('message', (msg) => pool.#done(w, msg));
            pool.#idle.push(w);
            resolve();
          });
        });
      }),
    );
    return pool;
  }

  /** task: { rows: number[][] } or { texts: string[] }, optional wantVectors. */
  run(task) {
    return new Promise((resolve, reject) => {
      this.#queue.push({ task: { ...task, id: this.#next++ }, resolve, reject });
      this.#pump();
    });
  }

  #pump() {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const w = this.#idle.shift();
      const job = this.#queue.shift();
      this.#pending.set(job.task.id, job);
      job.started = performance.now();
      w.postMessage(job.task);
    }
  }

  #done(worker, msg) {
    const job = this.#pending.get(msg.id);
    this.#pending.delete(msg.id);
    this.#idle.push(worker);
    this.#pump();
    if (msg.error) job.reject(new Error(msg.error));
    else job.resolve({ ...msg, wallMs: performance.now() - job.started });
  }

  /** Every batch of `plan` (lists of indices into `rows`, pre-tokenized) at once; the results and the wall time. */
  async runPlan(plan, rows) {
    const t0 = performance.now();
    const results = await Promise.all(plan.map((b) => this.run({ rows: b.map((i) => rows[i]) })));
    return { results, wallS: (performance.now() - t0) / 1000 };
  }

  async close() {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
