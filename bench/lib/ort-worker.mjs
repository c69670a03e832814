/**
 * Benchmark worker thread: one onnxruntime-node session, fed either pre-tokenized rows (the ceiling)
 * or texts it tokenizes itself (as the service's worker does). Replies with the time the batch took
 * inside the worker and, when asked, the vectors.
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const { graph, tokenizerPath, threads, dist, spin = true } = workerData;
const { ModelTokenizer } = await import(`${dist}/src/core/tokenizer.js`);
const { meanPoolNormalize } = await import(`${dist}/src/workers/thread/pooling.js`);
const DIMS = 384;

const session = await ort.InferenceSession.create(graph, {
  executionProviders: ['cpu'],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // With spinning off, idle intra-op threads sleep instead of busy-waiting (matters when threads outnumber cores).
  extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
});
const tokenizer = ModelTokenizer.fromFile(tokenizerPath);

async function run(rows) {
  const count = rows.length;
  const padded = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(count * padded);
  const mask = new BigInt64Array(count * padded);
  rows.forEach((r, row) => {
    for (let t = 0; t < r.length; t++) {
      ids[row * padded + t] = BigInt(r[t]);
      mask[row * padded + t] = 1n;
    }
  });
  const shape = [count, padded];
  const out = await session.run({
    input_ids: new ort.Tensor('int64', ids, shape),
    attention_mask: new ort.Tensor('int64', mask, shape),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(count * padded), shape),
  });
  const hidden = out.last_hidden_state;
  const vectors = new Float32Array(count * DIMS);
  meanPoolNormalize(hidden.data, rows.map((r) => r.length), padded, DIMS, vectors);
  hidden.dispose();
  return { vectors, padded: count * padded };
}

parentPort.on('message', async (m) => {
  try {
    const t0 = performance.now();
    const rows = m.texts ? m.texts.map((t) => tokenizer.encode(t).ids) : m.rows;
    const t1 = performance.now();
    const { vectors, padded } = await run(rows);
    const t2 = performance.now();
    parentPort.postMessage(
      { id: m.id, tokenizeMs: t1 - t0, inferMs: t2 - t1, padded, vectors: m.wantVectors ? vectors : undefined },
      m.wantVectors ? [vectors.buffer] : [],
    );
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String(error?.stack ?? error) });
  }
});
parentPort.postMessage({ ready: true });
