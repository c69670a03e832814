import test from 'ava';
import { RuntimeLimits } from '../src/core/runtime-limits.js';
import { BatchScheduler, InsufficientMemoryError } from '../src/core/scheduler.js';
import { largestBatchBytes, batchMemoryBytes } from '../src/model/spec.js';
import { admitBatch, admitRequest, type HeadroomInput } from '../src/supervisor/headroom.js';
import { HeadroomGate } from '../src/supervisor/headroom-gate.js';
import type { WorkerSnapshot } from '../src/workers/pool.js';
import { deferredRunner, tick } from '../harness/deferred-runner.js';

const MB = 2 ** 20;
/** A made-up model: 10 MB per row, whatever its length. */
const tenPerRow = (rows: number) => rows * 10 * MB;
const input = (over: Partial<HeadroomInput>): HeadroomInput => ({
  rows: 8,
  padded: 256,
  budgetBytes: 1000 * MB,
  usedBytes: 500 * MB,
  committedBytes: 0,
  running: 0,
  smallestArenaBytes: 0,
  totalArenaBytes: 0,
  cost: tenPerRow,
  ...over,
});

test('a batch that fits starts whole, and reserves its growth', (t) => {
  t.deepEqual(admitBatch(input({})), { start: 8, growthBytes: 80 * MB });
});

test('a batch too large for the headroom starts in the largest pieces that fit', (t) => {
  t.deepEqual(admitBatch(input({ usedBytes: 950 * MB })), { start: 5, growthBytes: 50 * MB });
  t.deepEqual(admitBatch(input({ usedBytes: 900 * MB, committedBytes: 70 * MB })), { start: 3, growthBytes: 30 * MB });
});

test('a worker arena that already holds the shape costs nothing new', (t) => {
  t.deepEqual(admitBatch(input({ usedBytes: 990 * MB, smallestArenaBytes: 80 * MB })), { start: 8, growthBytes: 0 });
});

test('no room for one row: wait while something runs; with nothing running, wait only if recycling could make room', (t) => {
  t.is(admitBatch(input({ usedBytes: 995 * MB, running: 1 })).start, 0);
  t.is(admitBatch(input({ usedBytes: 995 * MB, totalArenaBytes: 200 * MB })).start, 0, 'recycling the workers would free 200 MB');
  t.is(admitBatch(input({ usedBytes: 995 * MB, totalArenaBytes: 0 })).start, -1, 'nothing to free: it can never fit');
  t.is(admitBatch(input({ usedBytes: 995 * MB, totalArenaBytes: 0, idleBytes: 600 * MB })).start, 0, 'the main thread holds memory above the idle footprint: it will let go');
  t.is(admitBatch(input({ usedBytes: 995 * MB, totalArenaBytes: 0, idleBytes: 995 * MB })).start, -1, 'idle, the service already fills the budget');
});

test('the real model: 64 full rows never start whole under a 490 MB budget with a 430 MB idle footprint', (t) => {
  const decision = admitBatch({ ...input({ rows: 64, budgetBytes: 490 * MB, usedBytes: 430 * MB }), cost: undefined });
  t.true(decision.start >= 1 && decision.start < 64, `${decision.start} rows`);
  t.true(batchMemoryBytes(decision.start, 256) <= 60 * MB);
  t.true(largestBatchBytes(64, 16_384) > 900 * MB, 'what the planner could form with EMBEDDING_MAX_BATCH_TOKENS=16384');
});

const worker = (id: number, arenaBytes: number): WorkerSnapshot => ({ id, role: 'regular', state: 'ready', busy: false, tasks: 0, estimatedBytes: arenaBytes, arenaBytes, peakBatchTokens: 0 });
const longText = 'word '.repeat(400);

test('the scheduler with the gate: a batch waits for headroom, one that fits goes ahead of it, and it runs after a reading', async (t) => {
  let clock = 0;
  const gate = new HeadroomGate({ budgetBytes: 500 * MB, usedBytes: 490 * MB, pool: { snapshot: () => [worker(0, 5 * MB), worker(1, 30 * MB)] }, now: () => clock });
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 64, maxConcurrency: 2 });
  const runner = deferredRunner((texts) => texts.length);
  const scheduler = new BatchScheduler<number>(runner.run, limits, { gate });
  const giant = scheduler.submit({}, Array(8).fill(longText));
  const small = scheduler.submit({}, ['hi']);
  await tick();
  t.deepEqual(
    runner.started.map((s) => s.texts.length),
    [1],
    'the full-length batch (about 16 MB a row) waits; the one-word batch starts',
  );
  t.is(gate.report().memory_waits > 0, true);
  runner.finishOne();
  t.is(await small, 1);
  clock = 10;
  gate.sampled(470 * MB, 500 * MB, clock);
  limits.recheck();
  await tick();
  t.is(runner.started.length, 2);
  const piece = runner.started[1]!.maxRows;
  t.true(piece !== undefined && piece >= 1 && piece < 8, `runs in pieces of ${piece} rows`);
  runner.finishOne();
  t.is(await giant, 8);
});

test('the scheduler with the gate: a batch that can never fit fails its request with InsufficientMemoryError, and the queue moves on', async (t) => {
  const gate = new HeadroomGate({ budgetBytes: 400 * MB, usedBytes: 420 * MB, pool: { snapshot: () => [worker(0, 0)] } });
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 64, maxConcurrency: 1 });
  const runner = deferredRunner((texts) => texts.length);
  const scheduler = new BatchScheduler<number>(runner.run, limits, { gate });
  const error = await t.throwsAsync(scheduler.submit({}, [longText]), { instanceOf: InsufficientMemoryError });
  t.regex(error!.message, /needs about \d+ MB of model memory.*raise the memory limit/);
  t.is(gate.report().refused_batches, 1);
  await scheduler.whenIdle();
});

test('over budget, a batch the smallest arena already holds still starts: it adds nothing', (t) => {
  t.deepEqual(admitBatch(input({ usedBytes: 1100 * MB, running: 1, smallestArenaBytes: 30 * MB })), { start: 3, growthBytes: 0 });
});

test('admission by cost: never past the room above the idle footprint; under pressure only what fits the headroom or is small', (t) => {
  const base = { refusing: false, headroomBytes: 100 * MB, budgetBytes: 600 * MB, idleBytes: 500 * MB };
  t.deepEqual(admitRequest({ ...base, bodyBytes: 10 * MB }), { admit: true });
  t.like(admitRequest({ ...base, bodyBytes: 40 * MB }), { admit: false, why: 'never', needBytes: 120 * MB, roomBytes: 100 * MB });
  t.deepEqual(admitRequest({ ...base, bodyBytes: undefined }), { admit: true }, 'a chunked body of unknown size is taken while memory is fine');
  const pressed = { ...base, refusing: true, headroomBytes: -20 * MB };
  t.deepEqual(admitRequest({ ...pressed, bodyBytes: 2000 }), { admit: true }, 'a one-chunk request');
  t.like(admitRequest({ ...pressed, bodyBytes: 2 * MB }), { admit: false, why: 'not-now' });
  t.like(admitRequest({ ...pressed, bodyBytes: undefined }), { admit: false, why: 'not-now' });
  const crowded = { ...base, idleBytes: 610 * MB };
  t.deepEqual(admitRequest({ ...crowded, bodyBytes: 200_000 }), { admit: true }, 'an idle footprint above the budget never refuses a small request for good');
  t.like(admitRequest({ ...crowded, bodyBytes: 2 * MB }), { admit: false, why: 'never', roomBytes: -10 * MB });
});

test('paused at the floor: a batch the arenas hold still starts (small requests are answered), one that would grow them waits', async (t) => {
  t.deepEqual(admitBatch(input({ onlyFree: true, smallestArenaBytes: 30 * MB })), { start: 3, growthBytes: 0 });
  t.deepEqual(admitBatch(input({ onlyFree: true, smallestArenaBytes: 0 })), { start: 0, growthBytes: 0 }, 'plenty of headroom, but paused');
  // Arenas of 10 MB hold a short row, not a full-length one (about 16 MB).
  const gate = new HeadroomGate({ budgetBytes: 500 * MB, usedBytes: 490 * MB, pool: { snapshot: () => [worker(0, 10 * MB), worker(1, 10 * MB)] } });
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 64, maxConcurrency: 2 });
  limits.paused = true;
  const runner = deferredRunner((texts) => texts.length);
  const scheduler = new BatchScheduler<number>(runner.run, limits, { gate });
  const giant = scheduler.submit({}, Array(8).fill(longText));
  const small = scheduler.submit({}, ['a one-line query']);
  await tick();
  t.deepEqual(runner.started.map((s) => s.texts), [['a one-line query']]);
  runner.finishOne();
  t.is(await small, 1);
  limits.paused = false;
  await tick();
  t.is(runner.started.length, 2, 'the giant batch starts once dispatch resumes, in pieces the headroom holds');
  t.is(runner.started[1]!.maxRows, 1);
  runner.finishOne();
  t.is(await giant, 8);
});
