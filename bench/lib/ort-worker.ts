/**
 * Benchmark worker thread: the service's own inference code (src/workers/thread/inference.ts), fed
 * either pre-tokenized rows (the ceiling) or texts it tokenizes itself (as the service's worker
 * does). Replies with the time the batch took inside the worker and, when asked, the vectors.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Inference } from '../../src/workers/thread/inference.js';
import type { OrtReply, OrtTask, OrtWorkerData, OrtWorkerMessage } from './ort-protocol.js';

const DIMS = 384;
const data = workerData as OrtWorkerData;
const port = parentPort!;
const inference = await Inference.create({
  graphPath: data.graphPath,
  tokenizerPath: data.tokenizerPath,
  intraOpThreads: data.threads,
  dims: DIMS,
  // With spinning off, idle intra-op threads sleep instead of busy-waiting (matters when threads outnumber cores).
  idleThreads: data.spin ? 'spin' : 'sleep',
});

port.on('message', async (m: OrtTask & { id: number }) => {
  try {
    const t0 = performance.now();
    const rows = 'texts' in m ? inference.encode(m.texts).map((e) => e.ids) : m.rows;
    const t1 = performance.now();
    const vectors = new Float32Array(rows.length * DIMS);
    const padded = await inference.embedIds(rows, vectors);
    const t2 = performance.now();
    const reply: OrtReply = { id: m.id, tokenizeMs: t1 - t0, inferMs: t2 - t1, padded: rows.length * padded, vectors: m.wantVectors ? vectors : undefined };
    port.postMessage(reply satisfies OrtWorkerMessage, m.wantVectors ? [vectors.buffer] : []);
  } catch (error) {
    port.postMessage({ id: m.id, error: String((error as Error)?.stack ?? error) } satisfies OrtWorkerMessage);
  }
});
port.postMessage({ ready: true } satisfies OrtWorkerMessage);
