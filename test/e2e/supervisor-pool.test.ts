/** Recycling workers with the real model: nothing in flight is lost, duplicated or changed. */
import test from 'ava';
import path from 'node:path';
import { RuntimeLimits } from '../../src/core/runtime-limits.js';
import { defaultModelDir } from '../../src/model/files.js';
import { EmbeddingPool } from '../../src/workers/pool.js';

const dir = defaultModelDir();
const newPool = () =>
  new EmbeddingPool(
    { workers: 2, intraOpThreads: 1, dims: 384, graphPath: path.join(dir, 'model.onnx'), tokenizerPath: path.join(dir, 'tokenizer.json') },
    (error) => console.error(error),
  );
const pool = newPool();
test.after.always(() => pool.destroy());

const batch = (b: number) => Array.from({ length: 8 }, (_, i) => `batch ${b} row ${i}: return value_${b * 8 + i};`);

test.serial('workers recycled while batches run: every batch completes once, with the same vectors', async (t) => {
  await pool.warmUp();
  const batches = Array.from({ length: 40 }, (_, b) => batch(b));
  const expected = await Promise.all(batches.map((texts) => pool.run(texts)));

  const before = pool.recycles;
  const running = batches.map((texts) => pool.run(texts));
  t.is(pool.idleForMs(), 0, 'work waiting or running: not idle');
  // Recycle each worker while the batches above are queued and running.
  await pool.recycle(pool.snapshot()[0]!.id);
  await pool.recycle(pool.snapshot()[1]!.id);
  const again = await Promise.all(running);
  t.is(pool.recycles, before + 2);
  t.deepEqual(
    pool.snapshot().map((w) => w.state),
    ['ready', 'ready'],
  );
  again.forEach((result, b) => {
    t.deepEqual(Array.from(result.vectors), Array.from(expected[b]!.vectors), `batch ${b}`);
    t.deepEqual(Array.from(result.tokens), Array.from(expected[b]!.tokens));
  });
  // The fresh workers have served only what came after them.
  t.true(pool.snapshot().every((w) => w.tasks < 40));
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.true(pool.idleForMs() >= 15, 'idle time counts from the last batch');
});

test.serial('a batch larger than the current batch size runs in pieces and comes back whole and in order', async (t) => {
  await pool.warmUp();
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 64, maxConcurrency: 2 });
  const texts = Array.from({ length: 23 }, (_, i) => `chunk ${i} ${'word '.repeat(i)}`);
  const whole = await pool.run(texts);
  limits.batchSize = 5;
  const pieces = await pool.runWithin(limits, texts);
  t.deepEqual(Array.from(pieces.tokens), Array.from(whole.tokens));
  for (let i = 0; i < texts.length; i++) {
    let dot = 0;
    for (let d = 0; d < 384; d++) dot += pieces.vectors[i * 384 + d]! * whole.vectors[i * 384 + d]!;
    t.true(dot > 0.99999, `row ${i}: ${dot}`);
  }
});

test.serial('sequential batches on an idle pool stay on the worker that ran the last one', async (t) => {
  // A pool of its own, so both workers start level (the tests above leave their task counts uneven).
  const own = newPool();
  try {
    await own.warmUp();
    for (let b = 0; b < 6; b++) await own.run(batch(b));
    const tasks = own.snapshot().map((w) => w.tasks);
    t.deepEqual([...tasks].sort(), [0, 6], `tasks per worker: ${tasks.join(', ')}`);
  } finally {
    await own.destroy();
  }
});
