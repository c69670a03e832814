/**
 * A Piscina worker: holds one ONNX Runtime session and one tokenizer for its whole life and turns a
 * batch of texts into normalised sentence embeddings. Tokenizing here rather than on the main thread
 * keeps the event loop free for HTTP and spreads the work over the cores.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { move, workerData } from 'piscina';
import { MAX_SEQ_LENGTH, ModelTokenizer } from './tokenizer.js';
import { meanPoolNormalize } from './pooling.js';
import { allocateBatchResult } from '../batch-result.js';
import { maybeInjectFault, type FaultSettings } from './fault-injection.js';

export interface WorkerSettings {
  graphPath: string;
  tokenizerPath: string;
  intraOpThreads: number;
  dims: number;
  /** Test-only (EMBEDDING_TEST_FAULTS); undefined in service. */
  faults?: FaultSettings | undefined;
}

export interface EmbedTask {
  texts: string[];
}

/** Posted to the main thread after every task; the pool estimates the worker's footprint from it. */
export interface WorkerStats {
  kind: 'worker-stats';
  tasks: number;
  /** Largest batch so far in tokens (batch size × padded length): what the ONNX arena has grown to hold. */
  peakBatchTokens: number;
  /** This worker's V8 heap and external (ArrayBuffer) memory, in bytes. */
  heapUsed: number;
  external: number;
  gcs: number;
}

/**
 * A batch of this many tokens or more is "large": a garbage collection follows it, so its
 * multi-megabyte output buffer does not wait for V8 to notice it. Smaller batches are left to V8: a
 * forced collection every 10 batches, as the original service did, cost 1.1 ms of every chunk's
 * ~85 (a 19 ms full collection per 10 batches of 1.75 chunks, measured under the bench's HTTP load).
 */
export const LARGE_BATCH_TOKENS = 4096;

/**
 * The garbage collector, exposed. Node refuses `--expose-gc` in a worker's execArgv
 * (ERR_WORKER_INVALID_EXEC_ARGV: V8 flags are per process), so unless the process was started with
 * `node --expose-gc`, the flag is set at run time and `gc` is taken from a fresh context.
 */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
const gc = exposeGc();
let tasks = 0;
let gcs = 0;
let peakBatchTokens = 0;

const settings = workerData as WorkerSettings;

const session = await ort.InferenceSession.create(settings.graphPath, {
  executionProviders: ['cpu'],
  intraOpNumThreads: settings.intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const tokenizer = ModelTokenizer.fromFile(settings.tokenizerPath);

export default async function embedBatch(task: EmbedTask): Promise<unknown> {
  maybeInjectFault(settings.faults, task.texts);
  const count = task.texts.length;
  const encoded = task.texts.map((text) => tokenizer.encode(text));
  const padded = Math.min(MAX_SEQ_LENGTH, Math.max(...encoded.map((e) => e.ids.length)));

  const inputIds = new BigInt64Array(count * padded);
  const attentionMask = new BigInt64Array(count * padded);
  encoded.forEach(({ ids }, row) => {
    for (let t = 0; t < ids.length; t++) {
      inputIds[row * padded + t] = BigInt(ids[t]!);
      attentionMask[row * padded + t] = 1n;
    }
  });
  const shape = [count, padded];
  const feeds = {
    input_ids: new ort.Tensor('int64', inputIds, shape),
    attention_mask: new ort.Tensor('int64', attentionMask, shape),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(count * padded), shape),
  };
  const outputs = await session.run(feeds);
  const hidden = outputs.last_hidden_state;
  if (!hidden || hidden.type !== 'float32' || hidden.dims[2] !== settings.dims) {
    throw new Error(`model output last_hidden_state is not float32 [batch, seq, ${settings.dims}]`);
  }

  const { buffer, view } = allocateBatchResult(count, settings.dims);
  const lengths = encoded.map((e) => e.ids.length);
  meanPoolNormalize(hidden.data as Float32Array, lengths, padded, settings.dims, view.vectors);
  encoded.forEach((e, row) => {
    view.tokens[row] = e.ids.length;
    view.truncated[row] = e.truncated ? 1 : 0;
  });
  hidden.dispose();

  tasks++;
  const batchTokens = count * padded;
  peakBatchTokens = Math.max(peakBatchTokens, batchTokens);
  if (batchTokens >= LARGE_BATCH_TOKENS) {
    gc();
    gcs++;
  }
  // The heap statistics alone: process.memoryUsage() also reads the process's RSS from /proc.
  const heap = v8.getHeapStatistics();
  parentPort?.postMessage({
    kind: 'worker-stats',
    tasks,
    peakBatchTokens,
    heapUsed: heap.used_heap_size,
    external: heap.external_memory,
    gcs,
  } satisfies WorkerStats);
  return move(buffer);
}
