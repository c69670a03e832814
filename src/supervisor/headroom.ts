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
  /**
   * The service's footprint with nothing to do (RSS once the workers were loaded): memory above it besides the arenas
   * (a request being parsed, garbage not yet collected) goes away by itself, so it is no reason to refuse for good.
   */
  idleBytes?: number;
  /** Dispatch is paused: only a batch that adds nothing may start (whole or in pieces); anything else waits. */
  onlyFree?: boolean;
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
  // A batch the arenas already hold adds nothing, so it runs even over budget: at the floor, work keeps flowing
  // inside the memory the workers have, instead of waiting for memory that only a recycle could free.
  const fits = (rows: number) => growth(rows) === 0 || (!input.onlyFree && growth(rows) <= headroom);
  if (fits(input.rows)) return { start: input.rows, growthBytes: growth(input.rows) };
  // The cost rises with the rows, so the largest piece that fits is found by bisection.
  let low = 0;
  let high = input.rows;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  if (low > 0) return { start: low, growthBytes: growth(low) };
  if (input.onlyFree) return { start: 0, growthBytes: 0 };
  if (input.running > 0 || input.committedBytes > 0) return { start: 0, growthBytes: 0 };
  // Nothing is running: recycling, and the main thread letting go of what it holds, can free memory. If even the idle
  // footprint leaves no room for one row, waiting is pointless.
  const afterRecycling = input.budgetBytes - Math.min(input.usedBytes - input.totalArenaBytes, input.idleBytes ?? Number.POSITIVE_INFINITY);
  return cost(1, input.padded) > afterRecycling ? { start: -1, growthBytes: 0 } : { start: 0, growthBytes: 0 };
}

/**
 * What admission charges per byte of a JSON body: the body, its parsed strings and its results. Measured 3.9 times the body
 * at 50,000 chunks (RELIABILITY.md, "Request-body memory"); the budget's margin and the pressure steps take the rest.
 */
export const BODY_MEMORY_FACTOR = 3;
/**
 * While new requests are refused for memory, one that needs at most this much besides the headroom is
 * still admitted: its batches run inside the arenas the workers already hold, so a one-chunk request
 * is not turned away because a giant one filled the budget.
 */
export const SMALL_REQUEST_BYTES = 4 * 1024 * 1024;

export interface RequestAdmissionInput {
  /** Content-Length; undefined when the body is chunked (its size is unknown until it is read). */
  bodyBytes: number | undefined;
  /** The supervisor refuses new work: memory over budget at the floor for longer than EMBEDDING_MAX_PAUSE_MS. */
  refusing: boolean;
  headroomBytes: number;
  budgetBytes: number;
  /** The service's footprint with nothing to do (RSS once the workers were loaded). */
  idleBytes: number;
}

/**
 * Admission by cost: a request whose body alone could never fit above the idle footprint is refused
 * at once (`never`, with what it needs); while memory is short, a request is admitted if what it
 * needs fits the headroom or is small; otherwise it waits for a retry (`not-now`).
 */
export function admitRequest(input: RequestAdmissionInput): { admit: true } | { admit: false; why: 'not-now' | 'never'; needBytes: number; roomBytes: number } {
  const need = input.bodyBytes === undefined ? Number.POSITIVE_INFINITY : input.bodyBytes * BODY_MEMORY_FACTOR;
  const room = input.budgetBytes - input.idleBytes;
  // A small request runs inside the arenas the workers already hold: it is never refused for good, even where the idle
  // footprint, read once at start, came out at or above a tight budget (a busy machine, pages still being touched).
  if (Number.isFinite(need) && need > Math.max(room, SMALL_REQUEST_BYTES)) return { admit: false, why: 'never', needBytes: need, roomBytes: room };
  if (!input.refusing) return { admit: true };
  if (need <= Math.max(0, input.headroomBytes) + SMALL_REQUEST_BYTES) return { admit: true };
  return { admit: false, why: 'not-now', needBytes: need, roomBytes: Math.max(0, input.headroomBytes) };
}
