import { clamp } from './runtime-limits.js';

/**
 * Default cap on one batch's padded tokens (rows × its longest row). Measured with this model on
 * 2 Zen 4 cores, 2 workers × 1 thread (BENCHMARKS.md, "Token budget" and "Batch shape"): on the
 * benchmark corpus the CPU per chunk was 90 ms at 512 and 1,024 tokens, 97 at 2,048, 107 at 4,096,
 * 114 at 8,192 and 119 uncapped, with peak RSS 0.56 GB at 1,024 against 0.72 GB at 2,048 and
 * 2.4 GB uncapped; fixed shapes agree (the cost per token rises from 2,048 padded tokens per batch
 * at 64 and 128 tokens per row). Smaller batches also pad less (1.10× the real tokens against
 * 1.14× at 2,048). 1,024 is the largest budget on the cheap plateau.
 */
export const DEFAULT_MAX_BATCH_TOKENS = 1024;

/**
 * Characters per word piece assumed when the planner estimates a chunk's tokens from its length.
 * Measured on the benchmark corpus (code and markdown prose): median 3.5 chars per word piece for
 * code, 3.0 for prose, 5th percentiles 2.8 and 1.9. 2.5 sits below most texts, so an estimate is
 * usually high and a batch usually stays under its budget; text denser than that (CJK, symbol runs)
 * can exceed the budget by at most 2.5× (one char per piece), never the 256-token row cap.
 */
export const CHARS_PER_TOKEN_ESTIMATE = 2.5;

/** [CLS] … [SEP] and the model's max_seq_length, as in tokenizer.ts (kept here so the planner stays pure). */
const SPECIAL_TOKENS = 2;
const MAX_TOKENS = 256;

/** A chunk's expected word pieces from its length in UTF-16 code units, [CLS] and [SEP] included. */
export function estimateTokens(chars: number): number {
  return Math.min(MAX_TOKENS, SPECIAL_TOKENS + Math.ceil(chars / CHARS_PER_TOKEN_ESTIMATE));
}

export interface BatchPlanOptions {
  /** Smallest batch worth a worker round trip (EMBEDDING_MIN_BATCH_SIZE). */
  minBatchSize: number;
  /** Current upper bound on chunks per batch. */
  batchSize: number;
  /** Batches that can run at once; a request is split at least this many ways when it is big enough. */
  parallelism: number;
  /**
   * Most padded tokens one batch may hold, counted as rows × the tokens of its longest row (what the
   * model computes). No cap when absent. A single chunk over the budget still gets a batch of its own.
   */
  maxBatchTokens?: number;
  /** The tokens a chunk of a given length is expected to have; by default the lengths are tokens. */
  tokensOf?: (length: number) => number;
  /**
   * Order the batches most expensive first (the order to dispatch them in), so the last batches to
   * run are the cheapest and no worker is left with one long batch while the others idle. By default
   * batches come shortest first.
   */
  longestFirst?: boolean;
}

/**
 * Splits a request's chunks into batches, as lists of chunk indices. Chunks are ordered by length
 * first so each batch pads to a length close to its members' own, and the request is cut into
 * evenly sized batches so every worker gets a share instead of one full batch and a remainder.
 * A batch over the token budget is then cut further, from its long end, into the fewest pieces
 * that each fit the budget.
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
  const tokensOf = options.tokensOf ?? ((length: number) => length);
  const budget = options.maxBatchTokens;
  const batches: number[][] = [];
  let start = 0;
  for (let b = 0; b < count; b++) {
    const length = base + (b < larger ? 1 : 0);
    const batch = order.slice(start, start + length);
    start += length;
    if (budget === undefined) batches.push(batch);
    else batches.push(...splitToBudget(batch, (i) => Math.max(1, tokensOf(lengths[i]!)), budget));
  }
  if (options.longestFirst) {
    const cost = (batch: number[]) => batch.length * tokensOf(lengths[batch[batch.length - 1]!]!);
    // Stable sort: equal costs keep their length order.
    return batches
      .map((batch, position) => ({ batch, position, cost: cost(batch) }))
      .sort((a, b) => b.cost - a.cost || b.position - a.position)
      .map((entry) => entry.batch);
  }
  return batches;
}

/**
 * Cuts a batch sorted by length into consecutive pieces of at most `budget` padded tokens, filling
 * each from the long end (where rows cost most), so the fewest pieces result; the remainder is the
 * piece of the shortest chunks. Pieces are returned shortest first.
 */
function splitToBudget(batch: number[], tokens: (index: number) => number, budget: number): number[][] {
  const longest = tokens(batch[batch.length - 1]!);
  if (batch.length * longest <= budget) return [batch];
  const pieces: number[][] = [];
  let end = batch.length;
  while (end > 0) {
    const padTo = tokens(batch[end - 1]!);
    const rows = Math.max(1, Math.min(end, Math.floor(budget / padTo)));
    pieces.push(batch.slice(end - rows, end));
    end -= rows;
  }
  return pieces.reverse();
}
