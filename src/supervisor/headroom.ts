/**
 * Whether a batch may start, by what it will cost in memory: the batch memory model (model/spec.ts)
 * against the budget, what the process already uses and what batches already started will add. Pure:
 * the numbers in, the decision out, tested with made-up figures. HeadroomGate (headroom-gate.ts)
 * keeps the numbers and hands the scheduler its answers.
 */
import { batchMemoryBytes } from '../model/spec.js';

export interface HeadroomInput {
  /** Rows in the batch and its padded length (an upper estimate: the main thread does not tokenize). */
  rows: number;
  padded: number;
  budgetBytes: number;
  /** Memory in use at the last sample (the larger of RSS and the binding cgroup's working set). */
  usedBytes: number;
  /** Predicted growth of batches started since that sample or still running, not yet seen in it. */
  committedBytes: number;
  /** Batches running now. */
  running: number;
  /** The smallest arena among the workers that may take the batch: the worst case, as any may take it. */
  smallestArenaBytes: number;
  /** Sum of every worker's arena: what recycling them all would free. */
  totalArenaBytes: number;
  /** The model; the real one unless a test gives another. */
  cost?: (rows: number, padded: number) => number;
}

/**
 * The batch starts whole (`{ start: rows }`), in pieces of fewer rows run one after another
 * (`{ start: k }`, k < rows), waits for memory (`{ start: 0 }`: a running batch will finish, or the
 * supervisor will recycle a worker), or can never fit: not even one row on a fresh worker with
 * every arena freed (`{ start: -1 }`).
 */
export function admitBatch(input: HeadroomInput): { start: number; growthBytes: number } {
  const cost = input.cost ?? batchMemoryBytes;
  const headroom = input.budgetBytes - input.usedBytes - input.committedBytes;
  // A worker's arena already holds what a smaller batch needs; only the excess is new memory.
  const growth = (rows: number) => Math.max(0, cost(rows, input.padded) - input.smallestArenaBytes);
  if (growth(input.rows) <= headroom) return { start: input.rows, growthBytes: growth(input.rows) };
  // The cost rises with the rows, so the largest piece that fits is found by bisection.
  let low = 0;
  let high = input.rows;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (growth(mid) <= headroom) low = mid;
    else high = mid - 1;
  }
  if (low > 0) return { start: low, growthBytes: growth(low) };
  if (input.running > 0 || input.committedBytes > 0) return { start: 0, growthBytes: 0 };
  // Nothing is running: only recycling can free memory. If even that cannot make room for one row, waiting is pointless.
  const afterRecycling = input.budgetBytes - (input.usedBytes - input.totalArenaBytes);
  return cost(1, input.padded) > afterRecycling ? { start: -1, growthBytes: 0 } : { start: 0, growthBytes: 0 };
}
