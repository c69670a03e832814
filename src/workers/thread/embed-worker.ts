/**
 * A Piscina worker: holds one ONNX Runtime session and one tokenizer for its whole life and turns a
 * batch of texts into normalised sentence embeddings. Tokenizing here rather than on the main thread
 * keeps the event loop free for HTTP and spreads the work over the cores.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { move, workerData } from 'piscina';
import { batchMemoryBytes } from '../../model/spec.js';
import { Inference, type IdleThreads } from './inference.js';
import { maybeInjectFault, type FaultSettings } from './fault-injection.js';
import { packWindows, type WindowSpec } from '../window-result.js';
import { cutWindows } from './windows.js';

export interface WorkerSettings {
  graphPath: string;
  tokenizerPath: string;
  intraOpThreads: number;
  dims: number;
  /** EMBEDDING_MAX_SEQ_LENGTH: where the tokenizer cuts each text, [CLS] and [SEP] included. */
  maxSeqLength?: number | undefined;
  /** How idle intra-op threads wait (inference.ts); unset: onnxruntime's default. */
  idleThreads?: IdleThreads | undefined;
  /** Test-only (EMBEDDING_TEST_FAULTS); undefined in service. */
  faults?: FaultSettings | undefined;
}

export interface EmbedTask {
  texts: string[];
  /** When set, the texts are not embedded but cut into windows (window-result.ts): the answer is their ranges. */
  windows?: WindowSpec | undefined;
}

/** Posted to the main thread after every task; the pool estimates the worker's footprint from it. */
export interface WorkerStats {
  kind: 'worker-stats';
  tasks: number;
  /** Largest batch so far in tokens (batch size × padded length). */
  peakBatchTokens: number;
  /** What the session holds for the largest batch so far, by the batch memory model (model/spec.ts): its arena's high-water mark. */
  arenaBytes: number;
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
let arenaBytes = 0;

const settings = workerData as WorkerSettings;

// Tokenizer, tensors, ONNX session and pooling live in inference.ts, shared with the bench's ceiling.
const inference = await Inference.create(settings);

export default async function embedBatch(task: EmbedTask): Promise<unknown> {
  if (task.windows) {
    const spec = task.windows;
    return move(packWindows(task.texts.map((text) => cutWindows(text, (part) => inference.tokenizer.countPieces(part), spec))));
  }
  maybeInjectFault(settings.faults, task.texts);
  const { buffer, count, padded } = await inference.embedTexts(task.texts);

  tasks++;
  const batchTokens = count * padded;
  peakBatchTokens = Math.max(peakBatchTokens, batchTokens);
  arenaBytes = Math.max(arenaBytes, batchMemoryBytes(count, padded));
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
    arenaBytes,
    heapUsed: heap.used_heap_size,
    external: heap.external_memory,
    gcs,
  } satisfies WorkerStats);
  return move(buffer);
}
