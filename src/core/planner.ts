import { MAX_SEQ_LENGTH } from '../model/spec.js';

/**
 * Default cap on one batch's padded tokens (rows × its longest row). Measured with this model on
 * 2 AMD EPYC cores (Zen 3, AVX2), 2 workers × 1 thread, the benchmark's requests planned as the
 * service plans them (BENCHMARKS.md): cost per token rises with the batch (+8% at 2,048, +19% at
 * 4,096, +33% uncapped with the first planner), and so does memory (0.56 GB at 1,024, 2.4 GB
 * uncapped). Between the small budgets single runs could not decide (they move ±10% here); run in
 * alternation (`npm run bench:budget-pairs`), 256 took 0.94× and 0.97× the quiet inference time of
 * 512 in two runs and 128 took 1.05× that of 256 (BENCHMARKS.md, "Token budget, decided in pairs"),
 * with less memory: a smaller batch's products stay closer to the core, while below 256 per-run
 * overhead costs more than padding saves. 256 is also the longest chunk, so long chunks run alone.
 */
export const DEFAULT_MAX_BATCH_TOKENS = 256;

/**
 * Characters per word piece inside a word, for the estimate below. The estimate counts what BERT's
 * pre-tokenizer does (runs of letters and digits, each punctuation mark on its own) and cuts each
 * word into pieces of this many characters. Fitted on the benchmark corpus (code and prose, exact
 * counts from the real tokenizer): 4 puts the median estimate at 1.07× the real count, 5th
 * percentile 0.92×, 95th 1.26×; characters alone (the first planner, 2.5 per piece) spread far
 * wider because code and prose differ, and batches sorted by them padded 1.10× instead of 1.07×.
 */
export const WORD_PIECE_CHARS = 4;

/** [CLS] and [SEP]: every input carries both. */
const SPECIAL_TOKENS = 2;

/**
 * A text's expected word pieces, [CLS] and [SEP] included, without tokenizing: one pass over the
 * characters that stops at the sequence cap (EMBEDDING_MAX_SEQ_LENGTH; `maxTokens`), about 100 times cheaper than the real tokenizer,
 * so it can run on the main thread for every chunk of a 50,000-chunk request.
 */
export function estimateTokens(text: string, maxTokens = MAX_SEQ_LENGTH): number {
  let tokens = SPECIAL_TOKENS;
  let word = 0;
  for (let i = 0; i < text.length && tokens < maxTokens; i++) {
    const c = text.charCodeAt(i);
    // Letters and digits, and non-ASCII below the CJK blocks (accented Latin, Greek, Cyrillic…), build words.
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 0xc0 && c < 0x3000)) {
      word++;
      continue;
    }
    if (word > 0) {
      tokens += 1 + Math.floor((word - 1) / WORD_PIECE_CHARS);
      word = 0;
    }
    // Whitespace separates; every other character (punctuation, symbols, CJK) is a piece of its own.
    if (c > 32 && c !== 0xa0) tokens++;
  }
  if (word > 0) tokens += 1 + Math.floor((word - 1) / WORD_PIECE_CHARS);
  return Math.min(maxTokens, tokens);
}

/**
 * What one more batch costs besides its padded tokens, in tokens of model work: the worker round
 * trip, the session call, and every weight matrix streamed through the cache once more (88 MB per
 * pass, whatever the batch's size). The planner trades it against padding: a higher value gives
 * fewer, fuller batches that pad more. Measured on the benchmark corpus (2×1, budget 1,024): 0, 4,
 * 8, 16 and 32 ran within 4% of each other (one chunk per batch, at 0, was fastest on this corpus of
 * mostly long chunks); 8 keeps short chunks together, where a batch of one would waste the weight
 * pass on a few tokens.
 */
export const DEFAULT_BATCH_OVERHEAD_TOKENS = 8;

export interface BatchPlanOptions {
  /** Smallest batch worth splitting a request for parallelism (EMBEDDING_MIN_BATCH_SIZE). */
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
  /** DEFAULT_BATCH_OVERHEAD_TOKENS unless given: the cost of one more batch, in tokens. */
  batchOverheadTokens?: number;
  /**
   * Order the batches most expensive first (the order to dispatch them in), so the last batches to
   * run are the cheapest and no worker is left with one long batch while the others idle. By default
   * batches come shortest first.
   */
  longestFirst?: boolean;
}

/**
 * Splits a request's chunks into batches, as lists of chunk indices, from each chunk's token count
 * (exact or estimated). Chunks are sorted by length and cut into runs of neighbours; of all such
 * cuttings within the row and token caps, the planner takes the one with the least model work:
 * padded tokens plus a fixed overhead per batch (dynamic programming, O(chunks × batchSize)). So
 * chunks of similar length share a batch and an outlier gets a small batch of its own instead of
 * making its neighbours pad. A request big enough is then split at least `parallelism` ways, so
 * every worker gets a share.
 */
export function planBatches(tokens: readonly number[], options: BatchPlanOptions): number[][] {
  const total = tokens.length;
  if (total === 0) return [];
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => tokens[a]! - tokens[b]! || a - b);
  const sorted = order.map((i) => Math.max(1, tokens[i]!));
  const maxRows = Math.max(1, options.batchSize);
  const budget = options.maxBatchTokens ?? Number.POSITIVE_INFINITY;
  const overhead = options.batchOverheadTokens ?? DEFAULT_BATCH_OVERHEAD_TOKENS;

  // cost[j]: least work for the first j sorted chunks; start[j]: where the last batch of that plan begins.
  const cost = new Float64Array(total + 1).fill(Number.POSITIVE_INFINITY);
  const start = new Int32Array(total + 1);
  cost[0] = 0;
  for (let end = 1; end <= total; end++) {
    const padTo = sorted[end - 1]!;
    for (let from = end - 1; from >= 0 && end - from <= maxRows; from--) {
      const rows = end - from;
      if (rows > 1 && rows * padTo > budget) break;
      // The last term only breaks ties, towards even batches: equal chunks split 50/50, not 64/36.
      const work = cost[from]! + rows * padTo + overhead + rows * rows * 1e-6;
      if (work < cost[end]!) {
        cost[end] = work;
        start[end] = from;
      }
    }
  }
  const ranges: Array<[number, number]> = [];
  for (let end = total; end > 0; end = start[end]!) ranges.push([start[end]!, end]);
  ranges.reverse();

  // Parallelism: split the batch with the most rows in two until every worker has a share, as long
  // as the request holds at least minBatchSize chunks per share.
  const minSize = Math.max(1, Math.min(options.minBatchSize, maxRows));
  const wanted = Math.min(Math.max(1, options.parallelism), Math.ceil(total / minSize));
  while (ranges.length < wanted) {
    let widest = 0;
    for (let r = 1; r < ranges.length; r++) if (ranges[r]![1] - ranges[r]![0] > ranges[widest]![1] - ranges[widest]![0]) widest = r;
    const [from, end] = ranges[widest]!;
    if (end - from < 2) break;
    const middle = from + Math.ceil((end - from) / 2);
    ranges.splice(widest, 1, [from, middle], [middle, end]);
  }

  const batches = ranges.map(([from, end]) => order.slice(from, end));
  if (options.longestFirst) {
    const work = (range: [number, number]) => (range[1] - range[0]) * sorted[range[1] - 1]!;
    // Stable sort: equal costs keep their length order.
    return ranges
      .map((range, position) => ({ batch: batches[position]!, position, work: work(range) }))
      .sort((a, b) => b.work - a.work || b.position - a.position)
      .map((entry) => entry.batch);
  }
  return batches;
}
