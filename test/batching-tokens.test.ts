import test from 'ava';
import { CHARS_PER_TOKEN_ESTIMATE, DEFAULT_MAX_BATCH_TOKENS, estimateTokens, planBatches, type BatchPlanOptions } from '../src/core/batching.js';
import { Embedder } from '../src/core/embedder.js';
import { RuntimeLimits } from '../src/core/runtime-limits.js';
import { BatchScheduler } from '../src/core/scheduler.js';
import type { BatchResult } from '../src/workers/batch-result.js';

/** A reproducible spread of token lengths from 3 to 256, like a mix of code and prose chunks. */
function tokenLengths(n: number, seed = 7): number[] {
  let a = seed;
  const next = () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a / 2 ** 31;
  };
  return Array.from({ length: n }, () => (next() < 0.4 ? 256 : 3 + Math.floor(next() * 253)));
}

const padded = (batch: number[], tokens: (i: number) => number) => batch.length * Math.max(...batch.map(tokens));

const base: BatchPlanOptions = { minBatchSize: 8, batchSize: 64, parallelism: 2 };

test('with a token budget every chunk lands in exactly one batch, and no batch pads past the budget', (t) => {
  for (const n of [1, 2, 7, 63, 64, 65, 500, 5000]) {
    for (const budget of [256, 1000, 2048, 8192]) {
      const lengths = tokenLengths(n, n + budget);
      const plan = planBatches(lengths, { ...base, maxBatchTokens: budget });
      t.deepEqual(
        plan.flat().sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i),
        `n=${n} budget=${budget}`,
      );
      for (const batch of plan) {
        t.true(batch.length <= 64, `n=${n} budget=${budget}: batch of ${batch.length}`);
        t.true(batch.length === 1 || padded(batch, (i) => lengths[i]!) <= budget, `n=${n} budget=${budget}: batch over budget`);
      }
    }
  }
});

test('batches stay sorted by length, so each pads to a length close to its members', (t) => {
  const lengths = tokenLengths(1000);
  const plan = planBatches(lengths, { ...base, maxBatchTokens: 2048 });
  const flat = plan.flat().map((i) => lengths[i]!);
  t.deepEqual(flat, [...flat].sort((a, b) => a - b));
  // Sorting keeps padding small: under 10% on this spread (arrival order would pad far more).
  const real = lengths.reduce((s, l) => s + l, 0);
  const pad = plan.reduce((s, b) => s + padded(b, (i) => lengths[i]!), 0);
  t.true(pad / real < 1.1, `padding ratio ${pad / real}`);
});

test('a batch over the budget is cut into the fewest pieces, filled from the long end', (t) => {
  // 64 chunks of 256 tokens: 8 per batch at 2,048.
  const full = planBatches(Array(64).fill(256), { ...base, parallelism: 1, maxBatchTokens: 2048 });
  t.deepEqual(full.map((b) => b.length), [8, 8, 8, 8, 8, 8, 8, 8]);
  // 56 short chunks and 8 long ones: the long ones fill one batch, the short ones share another.
  const lengths = [...Array(56).fill(10), ...Array(8).fill(256)];
  const mixed = planBatches(lengths, { ...base, parallelism: 1, maxBatchTokens: 2048 });
  t.deepEqual(mixed.map((b) => b.length), [56, 8]);
  t.true(mixed[1]!.every((i) => lengths[i] === 256));
});

test('a single chunk over the budget still gets a batch of its own', (t) => {
  const plan = planBatches([300, 300, 5], { ...base, maxBatchTokens: 256 });
  t.deepEqual(plan, [[2], [0], [1]]);
});

test('without a budget the planner is unchanged: count-based, even batches', (t) => {
  const lengths = Array.from({ length: 130 }, (_, i) => (i * 7919) % 101);
  t.deepEqual(planBatches(lengths, base), planBatches(lengths, { ...base, maxBatchTokens: undefined }));
  t.deepEqual(planBatches(lengths, base).map((b) => b.length), [44, 43, 43]);
  // A budget that does not bind changes nothing either.
  t.deepEqual(planBatches(lengths, { ...base, maxBatchTokens: 64 * 101 }), planBatches(lengths, base));
});

test('longestFirst dispatches the most expensive batches first, the cheapest last', (t) => {
  const lengths = tokenLengths(700);
  const ascending = planBatches(lengths, { ...base, maxBatchTokens: 2048 });
  const plan = planBatches(lengths, { ...base, maxBatchTokens: 2048, longestFirst: true });
  t.deepEqual(
    [...plan].map((b) => b.join()).sort(),
    ascending.map((b) => b.join()).sort(),
    'the same batches, only reordered',
  );
  const costs = plan.map((b) => padded(b, (i) => lengths[i]!));
  for (let i = 1; i < costs.length; i++) t.true(costs[i]! <= costs[i - 1]!, `batch ${i} costs more than batch ${i - 1}`);
});

test('lengths in characters are budgeted through an estimate of their tokens', (t) => {
  t.is(estimateTokens(0), 2);
  t.is(estimateTokens(Math.round(10 * CHARS_PER_TOKEN_ESTIMATE)), 12);
  t.is(estimateTokens(1_000_000), 256);
  // 40 chunks of 2,000 characters: each estimated at the 256-token cap, so the default budget bounds the rows.
  const plan = planBatches(Array(40).fill(2000), { ...base, maxBatchTokens: DEFAULT_MAX_BATCH_TOKENS, tokensOf: estimateTokens });
  t.true(plan.every((b) => b.length * 256 <= DEFAULT_MAX_BATCH_TOKENS));
  t.is(plan.flat().length, 40);
});

test('the embedder sends budgeted batches, longest first, and puts results back in request order', async (t) => {
  const dims = 4;
  const submitted: string[][] = [];
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 64, maxConcurrency: 1 });
  // Each text's "vector" is its own length, so the order of results can be checked.
  const scheduler = new BatchScheduler<BatchResult>(async (texts) => {
    submitted.push(texts);
    const vectors = new Float32Array(texts.length * dims);
    texts.forEach((text, row) => vectors.fill(text.length, row * dims, (row + 1) * dims));
    return { vectors, tokens: new Uint16Array(texts.map((x) => estimateTokens(x.length))), truncated: new Uint8Array(texts.length) };
  }, limits);
  const embedder = new Embedder(scheduler, limits, dims, 1024);
  const texts = Array.from({ length: 50 }, (_, i) => 'x'.repeat(((i * 37) % 50) * 20 + 1));
  const out = await embedder.embed(texts);
  for (let i = 0; i < texts.length; i++) t.is(out.vectors[i * dims], texts[i]!.length, `chunk ${i}`);
  for (const batch of submitted) {
    t.true(batch.length === 1 || batch.length * Math.max(...batch.map((x) => estimateTokens(x.length))) <= 1024, 'batch within the budget');
  }
  t.true(Math.max(...submitted[0]!.map((x) => x.length)) >= Math.max(...submitted[submitted.length - 1]!.map((x) => x.length)), 'longest first');
});
