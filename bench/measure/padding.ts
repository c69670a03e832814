/** Padding: padded tokens / real tokens for each way of forming batches (pure, no inference). */
import { sum } from '../../harness/stats.js';
import { DEFAULT_BATCH_OVERHEAD_TOKENS, estimateTokens, planBatches } from '../../src/core/planner.js';
import { planEachRequest, type MixRequest } from '../lib/mix.js';
import type { PaddingRow } from '../report/results.js';

/** `tokens` are the real counts of the corpus `texts`; `requests` the HTTP mix over the same corpus. */
export function paddingTable(texts: readonly string[], tokens: readonly number[], requests: readonly MixRequest[], budget: number): PaddingRow[] {
  const realTokens = sum(tokens);
  const paddedOf = (b: readonly number[]) => b.length * Math.max(...b.map((i) => tokens[i]!));
  const perRequest = (plan: (indices: number[]) => number[][]) => planEachRequest(requests, plan);
  const chars = texts.map((t) => t.length);
  const estimates = texts.map(estimateTokens);
  const ways: Array<{ name: string; batches: number[][] }> = [
    {
      name: 'Arrival order, fixed batches of 32 (the Python original)',
      batches: perRequest((idx) => {
        const out: number[][] = [];
        for (let i = 0; i < idx.length; i += 32) out.push(Array.from({ length: Math.min(32, idx.length - i) }, (_, k) => i + k));
        return out;
      }),
    },
    {
      name: `Per request, sorted by characters, no token budget (an even split in as many batches as the 64-row cap needs)`,
      batches: perRequest((idx) => planBatches(idx.map((i) => chars[i]!), { minBatchSize: 8, batchSize: 64, parallelism: 2, batchOverheadTokens: 1e9 })),
    },
    {
      name: `The service: per request, estimated tokens, budget ${budget}, least padding + ${DEFAULT_BATCH_OVERHEAD_TOKENS} tokens per batch`,
      batches: perRequest((idx) => planBatches(idx.map((i) => estimates[i]!), { minBatchSize: 8, batchSize: 64, parallelism: 2, maxBatchTokens: budget, longestFirst: true })),
    },
    {
      name: `Same with exact token counts (main-thread tokenization)`,
      batches: perRequest((idx) => planBatches(idx.map((i) => tokens[i]!), { minBatchSize: 8, batchSize: 64, parallelism: 2, maxBatchTokens: budget, longestFirst: true })),
    },
    {
      name: `Ceiling: whole corpus sorted by exact tokens, budget ${budget}`,
      batches: planBatches(tokens, { minBatchSize: 1, batchSize: 64, parallelism: 2, maxBatchTokens: budget, longestFirst: true }),
    },
  ];
  return ways.map(({ name, batches }) => ({
    name,
    batches: batches.length,
    ratio: sum(batches.map(paddedOf)) / realTokens,
    overBudget: batches.filter((b) => paddedOf(b) > budget).length,
    maxPadded: Math.max(...batches.map(paddedOf)),
  }));
}
