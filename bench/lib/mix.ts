/**
 * The benchmark's request mix: the corpus, in its fixed order, cut into /embed requests whose sizes
 * cycle through a fixed list from one chunk to a hundred (mean 30), as an indexer's calls would vary.
 */
import { estimateTokens, planBatches, type BatchPlanOptions } from '../../src/core/planner.js';

/** The lone short chunk (23 word pieces) every latency figure is taken with. */
export const SHORT_TEXT = 'export function add(a: number, b: number): number { return a + b; }';

export const REQUEST_SIZES = [1, 8, 32, 3, 64, 16, 100, 5, 24, 48];

export interface MixRequest {
  batch_id: string;
  chunks: Array<{ chunk_id: string; content: string }>;
}

export function requestMix(corpus: ReadonlyArray<{ id: string; text: string }>): MixRequest[] {
  const requests: MixRequest[] = [];
  for (let i = 0, k = 0; i < corpus.length; k++) {
    const n = REQUEST_SIZES[k % REQUEST_SIZES.length]!;
    const chunks = corpus.slice(i, i + n).map((c) => ({ chunk_id: c.id, content: c.text }));
    requests.push({ batch_id: `r${k}`, chunks });
    i += n;
  }
  return requests;
}

/**
 * Batches for each request planned on its own, as the service plans: `plan(indices)` gets the
 * corpus indices of one request's chunks and returns batches of positions within it; the result
 * holds corpus indices.
 */
export function planEachRequest(requests: readonly MixRequest[], plan: (indices: number[]) => number[][]): number[][] {
  const batches: number[][] = [];
  let offset = 0;
  for (const { chunks } of requests) {
    const indices = chunks.map((_, k) => offset + k);
    for (const batch of plan(indices)) batches.push(batch.map((k) => indices[k]!));
    offset += chunks.length;
  }
  return batches;
}

/**
 * The corpus's request mix planned as the service plans it: each request on its own, token counts
 * estimated from the text, at least 8 rows a batch where the budget allows. `options` are
 * planBatches' other options.
 */
export function planAsService(corpus: ReadonlyArray<{ id: string; text: string }>, options: Omit<BatchPlanOptions, 'minBatchSize'>): number[][] {
  return planEachRequest(requestMix(corpus), (indices) => planBatches(indices.map((i) => estimateTokens(corpus[i]!.text)), { ...options, minBatchSize: 8 }));
}
