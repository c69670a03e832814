import test from 'ava';
import { Embedder } from '../src/core/embedder.js';
import { RuntimeLimits } from '../src/core/runtime-limits.js';
import { BatchScheduler, QueueFullError } from '../src/core/scheduler.js';
import type { BatchResult } from '../src/workers/batch-result.js';
import { deferredRunner as deferredBatches, tick } from '../harness/deferred-runner.js';

/** Admission control and shutdown support in the scheduler, without workers. */

const deferredRunner = () =>
  deferredBatches(
    (texts): BatchResult => ({ vectors: new Float32Array(texts.length * 2), tokens: new Uint16Array(texts.length).fill(3), truncated: new Uint8Array(texts.length) }),
  );

/** Batches answered with their own texts, for tests that follow which ran. */
const echoRunner = () => deferredBatches((texts) => texts);

/** One request's two batches on one worker: the first running, the second waiting; both on the request's signal. */
function oneRunningOneWaiting() {
  const runner = deferredRunner();
  const scheduler = new BatchScheduler(runner.run, new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 4, maxConcurrency: 1 }));
  const controller = new AbortController();
  const owner = {};
  const first = scheduler.submit(owner, ['first'], controller.signal);
  const second = scheduler.submit(owner, ['second'], controller.signal);
  return { runner, scheduler, controller, first, second };
}

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
  const { runner, scheduler, controller, first: running, second: waiting } = oneRunningOneWaiting();
  t.deepEqual(runner.started[0]!.extra, [], 'the pool cannot terminate a worker mid-inference');
  t.is(runner.started[0]!.maxRows, undefined);
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

test('the scheduler keeps at most `concurrency` batches in flight and follows changes', async (t) => {
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 64, maxConcurrency: 3 });
  limits.concurrency = 1;
  const runner = echoRunner();
  const scheduler = new BatchScheduler(runner.run, limits);
  const owner = {};
  const results = ['a', 'b', 'c', 'd'].map((x) => scheduler.submit(owner, [x]));
  t.is(scheduler.inFlight, 1);
  t.is(scheduler.queued, 3);
  t.is(scheduler.queuedChunks, 3);
  limits.concurrency = 3;
  t.is(scheduler.inFlight, 3);
  runner.finishOne();
  await tick();
  t.is(scheduler.inFlight, 3);
  t.is(scheduler.queued, 0);
  while (runner.started.length < 4 || scheduler.inFlight > 0) {
    runner.finishOne();
    await tick();
  }
  t.deepEqual(await Promise.all(results), [['a'], ['b'], ['c'], ['d']]);
});

test('requests take turns, so a small request is not stuck behind a big one', async (t) => {
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 64, maxConcurrency: 1 });
  const runner = echoRunner();
  const scheduler = new BatchScheduler(runner.run, limits);
  const big = {};
  const small = {};
  for (let i = 0; i < 5; i++) void scheduler.submit(big, [`big-${i}`]);
  void scheduler.submit(small, ['small']);
  for (let i = 0; i < 3; i++) {
    runner.finishOne();
    await tick();
  }
  t.deepEqual(runner.started.map((s) => s.texts[0]), ['big-0', 'big-1', 'small', 'big-2']);
});

test('a cancelled request leaves the queue without running', async (t) => {
  const { runner, scheduler, controller, first, second } = oneRunningOneWaiting();
  t.is(scheduler.queued, 1);
  controller.abort(new Error('client disconnected'));
  await t.throwsAsync(second, { message: 'client disconnected' });
  t.is(scheduler.queued, 0);
  runner.finishOne();
  await first;
  t.deepEqual(runner.started.map((s) => s.texts), [['first']]);
});
