import test from 'ava';
import fc from 'fast-check';
import { DEFAULT_MAX_BATCH_TOKENS, estimateTokens, planBatches, type BatchPlanOptions } from '../src/core/planner.js';
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

test('without a budget only the row cap binds', (t) => {
  const plan = planBatches(Array<number>(130).fill(256), base);
  t.deepEqual(plan.map((b) => b.length).sort(), [43, 43, 44]);
  t.deepEqual(planBatches(tokenLengths(500), { ...base, maxBatchTokens: undefined }), planBatches(tokenLengths(500), base));
});

test('an outlier gets a small batch of its own instead of making its neighbours pad', (t) => {
  const lengths = [...Array<number>(15).fill(20), 250];
  const plan = planBatches(lengths, { ...base, parallelism: 1, maxBatchTokens: 1024 });
  t.deepEqual(plan, [Array.from({ length: 15 }, (_, i) => i), [15]]);
});

/** Every way to cut a sorted list into runs, for checking the planner against brute force. */
function* cuttings(n: number): Generator<number[]> {
  for (let mask = 0; mask < 2 ** (n - 1); mask++) {
    const sizes: number[] = [];
    let run = 1;
    for (let i = 0; i < n - 1; i++) {
      if (mask & (2 ** i)) {
        sizes.push(run);
        run = 1;
      } else run++;
    }
    sizes.push(run);
    yield sizes;
  }
}

test('the plan is the cheapest cutting of the sorted chunks (brute force on small requests)', (t) => {
  const overhead = 32;
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 256 }), { minLength: 1, maxLength: 9 }),
      fc.integer({ min: 256, max: 2048 }),
      fc.integer({ min: 1, max: 9 }),
      (lengths, budget, maxRows) => {
        const options = { minBatchSize: 1, batchSize: maxRows, parallelism: 1, maxBatchTokens: budget, batchOverheadTokens: overhead };
        const work = (runs: number[][]) => runs.reduce((sum, run) => sum + run.length * Math.max(...run) + overhead, 0);
        const plan = planBatches(lengths, options).map((b) => b.map((i) => lengths[i]!));
        const sorted = [...lengths].sort((a, b) => a - b);
        let best = Number.POSITIVE_INFINITY;
        for (const sizes of cuttings(sorted.length)) {
          let at = 0;
          const runs = sizes.map((size) => sorted.slice(at, (at += size)));
          if (runs.every((run) => run.length <= maxRows && (run.length === 1 || run.length * Math.max(...run) <= budget))) best = Math.min(best, work(runs));
        }
        return Math.abs(work(plan) - best) < 1e-3;
      }),
    { numRuns: 300 },
  );
  t.pass();
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

test('token counts are estimated from the text without tokenizing', (t) => {
  t.is(estimateTokens(''), 2);
  // Words of up to four characters are one piece, punctuation is a piece of its own, spaces nothing.
  t.is(estimateTokens('the cat sat.'), 2 + 3 + 1);
  t.is(estimateTokens('const x = f(a, b);'), 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1);
  t.is(estimateTokens('internationalization'), 2 + 5);
  t.is(estimateTokens('word '.repeat(100_000)), 256, 'capped at the model length, and stops scanning there');
  // 40 long chunks: each estimated at the 256-token cap, so the default budget bounds the rows.
  const plan = planBatches(Array(40).fill(estimateTokens('x '.repeat(2000))), { ...base, maxBatchTokens: DEFAULT_MAX_BATCH_TOKENS });
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
    return { vectors, tokens: new Uint16Array(texts.map((x) => estimateTokens(x))), truncated: new Uint8Array(texts.length) };
  }, limits);
  const embedder = new Embedder(scheduler, limits, dims, 1024);
  const texts = Array.from({ length: 50 }, (_, i) => 'x'.repeat(((i * 37) % 50) * 20 + 1));
  const out = await embedder.embed(texts);
  for (let i = 0; i < texts.length; i++) t.is(out.vectors[i * dims], texts[i]!.length, `chunk ${i}`);
  for (const batch of submitted) {
    t.true(batch.length === 1 || batch.length * Math.max(...batch.map((x) => estimateTokens(x))) <= 1024, 'batch within the budget');
  }
  t.true(Math.max(...submitted[0]!.map((x) => x.length)) >= Math.max(...submitted[submitted.length - 1]!.map((x) => x.length)), 'longest first');
});
