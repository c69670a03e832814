import { clamp } from './runtime-limits.js';

export interface BatchPlanOptions {
  /** Smallest batch worth a worker round trip (EMBEDDING_MIN_BATCH_SIZE). */
  minBatchSize: number;
  /** Current upper bound on chunks per batch. */
  batchSize: number;
  /** Batches that can run at once; a request is split at least this many ways when it is big enough. */
  parallelism: number;
}

/**
 * Splits a request's chunks into batches, as lists of chunk indices. Chunks are ordered by length
 * first so each batch pads to a length close to its members' own, and the request is cut into
 * evenly sized batches so every worker gets a share instead of one full batch and a remainder.
 */
export function planBatches(lengths: readonly number[], options: BatchPlanOptions): number[][] {
  const total = lengths.length;
  if (total === 0) return [];
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const upper = Math.max(1, options.batchSize);
  const size = clamp(Math.ceil(total / Math.max(1, options.parallelism)), Math.min(options.minBatchSize, upper), upper);
  const count = Math.ceil(total / size);
  const base = Math.floor(total / count);
  const larger = total % count;
  const batches: number[][] = [];
  let start = 0;
  for (let b = 0; b < count; b++) {
    const length = base + (b < larger ? 1 : 0);
    batches.push(order.slice(start, start + length));
    start += length;
  }
  return batches;
}
