import test from 'ava';
import { planBatches } from '../src/core/planner.js';
import { RuntimeLimits } from '../src/core/runtime-limits.js';

const lengthsOf = (n: number) => Array.from({ length: n }, (_, i) => (i * 7919) % 101);

test('every chunk lands in exactly one batch, batches sorted by length', (t) => {
  for (const n of [1, 2, 7, 8, 9, 63, 64, 65, 128, 1000, 50_000]) {
    const lengths = lengthsOf(n);
    const plan = planBatches(lengths, { minBatchSize: 8, batchSize: 64, parallelism: 2 });
    const seen = plan.flat().sort((a, b) => a - b);
    t.deepEqual(seen, Array.from({ length: n }, (_, i) => i), `n=${n}`);
    const flat = plan.flat().map((i) => lengths[i]!);
    t.deepEqual(flat, [...flat].sort((a, b) => a - b), `n=${n} sorted`);
    for (const batch of plan) t.true(batch.length <= 64, `n=${n} batch ≤ max`);
  }
});

test('a request is split across the pool, evenly, within min and max batch size', (t) => {
  const same = (n: number) => Array<number>(n).fill(50);
  t.deepEqual(planBatches(same(100), { minBatchSize: 8, batchSize: 64, parallelism: 2 }).map((b) => b.length), [50, 50]);
  t.deepEqual(planBatches(same(130), { minBatchSize: 8, batchSize: 64, parallelism: 2 }).map((b) => b.length).sort(), [43, 43, 44]);
  // Small requests are not split below the minimum batch size.
  t.deepEqual(planBatches(same(10), { minBatchSize: 8, batchSize: 64, parallelism: 4 }).map((b) => b.length), [5, 5]);
  t.deepEqual(planBatches(same(6), { minBatchSize: 8, batchSize: 64, parallelism: 4 }).map((b) => b.length), [6]);
  // A lowered batch size (the supervisor's lever) is honoured.
  t.true(planBatches(lengthsOf(1000), { minBatchSize: 8, batchSize: 16, parallelism: 2 }).every((b) => b.length <= 16));
  t.deepEqual(planBatches([], { minBatchSize: 8, batchSize: 64, parallelism: 2 }), []);
});

test('runtime limits clamp to their bounds and announce changes', (t) => {
  const limits = new RuntimeLimits({ minBatchSize: 8, maxBatchSize: 64, maxConcurrency: 2 });
  let changes = 0;
  limits.on('change', () => changes++);
  limits.batchSize = 1;
  t.is(limits.batchSize, 8);
  limits.batchSize = 1000;
  t.is(limits.batchSize, 64);
  limits.concurrency = 0;
  t.is(limits.concurrency, 1);
  t.is(changes, 3);
});
