import test from 'ava';
import { Embedder } from '../src/core/embedder.js';
import { RuntimeLimits } from '../src/core/runtime-limits.js';
import { BatchScheduler, QueueFullError } from '../src/core/scheduler.js';
import type { BatchResult } from '../src/workers/batch-result.js';

/** Admission control and shutdown support in the scheduler, without workers. */

function deferredRunner() {
  const started: Array<{ texts: string[]; signal: AbortSignal | undefined }> = [];
  const pending: Array<() => void> = [];
  const run = (texts: string[], signal?: AbortSignal) =>
    new Promise<BatchResult>((resolve) => {
      started.push({ texts, signal });
      pending.push(() =>
        resolve({ vectors: new Float32Array(texts.length * 2), tokens: new Uint16Array(texts.length).fill(3), truncated: new Uint8Array(texts.length) }),
      );
    });
  return { run, started, finishOne: () => pending.shift()?.() };
}
const tick = () => new Promise((r) => setImmediate(r));

test('admit refuses what would push the backlog past maxQueuedChunks, and nothing is queued for it', (t) => {
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 4, maxConcurrency: 1 });
  const runner = deferredRunner();
  const scheduler = new BatchScheduler(runner.run, limits, { maxQueuedChunks: 10 });
  const owner = {};
  for (let i = 0; i < 3; i++) void scheduler.submit(owner, ['a', 'b', 'c']); // one runs, six chunks wait
  t.is(scheduler.queuedChunks, 6);
  t.notThrows(() => scheduler.admit(4));
  const error = t.throws(() => scheduler.admit(5), { instanceOf: QueueFullError });
  t.like(error, { requested: 5, queued: 6, limit: 10 });
  t.is(scheduler.queuedChunks, 6);
});

test('an empty queue admits a request of any size, so a big request is never starved', (t) => {
  const scheduler = new BatchScheduler(deferredRunner().run, new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 4, maxConcurrency: 1 }), { maxQueuedChunks: 10 });
  t.notThrows(() => scheduler.admit(1000));
});

test('Embedder.embed refuses before submitting anything when the queue is full', async (t) => {
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 2, maxConcurrency: 1 });
  const runner = deferredRunner();
  const scheduler = new BatchScheduler(runner.run, limits, { maxQueuedChunks: 4 });
  const embedder = new Embedder(scheduler, limits, 2);
  const first = embedder.embed(['a', 'b', 'c', 'd', 'e', 'f']); // 2 running, 4 waiting
  await t.throwsAsync(embedder.embed(['x']), { instanceOf: QueueFullError });
  t.is(runner.started.length, 1);
  for (let i = 0; i < 3; i++) {
    runner.finishOne();
    await tick();
  }
  t.is((await first).count, 6);
  t.notThrows(() => scheduler.admit(4));
});

test('running batches never see the request signal; whenIdle waits for them after a cancel', async (t) => {
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 4, maxConcurrency: 1 });
  const runner = deferredRunner();
  const scheduler = new BatchScheduler(runner.run, limits);
  const controller = new AbortController();
  const owner = {};
  const running = scheduler.submit(owner, ['running'], controller.signal);
  const waiting = scheduler.submit(owner, ['waiting'], controller.signal);
  t.is(runner.started[0]!.signal, undefined, 'the pool cannot terminate a worker mid-inference');
  let idle = false;
  const whenIdle = scheduler.whenIdle().then(() => (idle = true));
  controller.abort(new Error('client disconnected'));
  await t.throwsAsync(waiting, { message: 'client disconnected' });
  await tick();
  t.false(idle, 'the running batch is still running');
  runner.finishOne();
  await running;
  await whenIdle;
  t.true(idle);
  await scheduler.whenIdle();
});
