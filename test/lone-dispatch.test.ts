import test from 'ava';
import { loneThreads, parseConfig } from '../src/config.js';
import { LONE_AUTO_MIN_BUDGET_BYTES, loneWorkerThreads } from '../src/supervisor/lone-worker.js';
import { chooseWorker, type DispatchView } from '../src/workers/dispatch.js';
import { BRIEF_SPIN_US, idleThreadsConfig } from '../src/workers/thread/inference.js';

/** The pool's choice of worker for the next waiting batch (issue 16), without threads. */

const idle: DispatchView = { waiting: 1, running: 0, loneFree: true, regularFree: true, settled: true };

test('a batch alone in an idle pool goes to the lone (every-core) worker', (t) => {
  t.is(chooseWorker(idle), 'lone');
});

test('the choice waits one microtask first, so the other batches submitted in the same tick are seen', (t) => {
  t.is(chooseWorker({ ...idle, settled: false }), 'defer');
});

test('a request of two batches goes to the regular workers: neither batch is alone', (t) => {
  t.is(chooseWorker({ ...idle, waiting: 2 }), 'regular');
  t.is(chooseWorker({ ...idle, waiting: 2, settled: false }), 'regular');
});

test('under load (anything running) the lone worker is never chosen', (t) => {
  t.is(chooseWorker({ ...idle, running: 1 }), 'regular');
  t.is(chooseWorker({ ...idle, running: 1, regularFree: false }), 'wait');
  t.is(chooseWorker({ ...idle, running: 2, waiting: 3, regularFree: false }), 'wait');
});

test('without a free lone worker (none configured, loading, recycling) a lone batch takes a regular worker', (t) => {
  t.is(chooseWorker({ ...idle, loneFree: false }), 'regular');
  t.is(chooseWorker({ ...idle, loneFree: false, settled: false }), 'regular');
  t.is(chooseWorker({ ...idle, loneFree: false, regularFree: false }), 'wait');
});

test('a lone batch takes the lone worker even while the regular ones are still loading', (t) => {
  t.is(chooseWorker({ ...idle, regularFree: false }), 'lone');
});

test('nothing waiting: nothing to place', (t) => {
  t.is(chooseWorker({ ...idle, waiting: 0 }), 'wait');
});

test('EMBEDDING_LONE_THREADS: capped, off when no wider than a regular worker', (t) => {
  t.is(loneThreads(2, 1, undefined), 2, 'unset: every core');
  t.is(loneThreads(16, 1, 16), 8);
  t.is(loneThreads(1, 1, undefined), 0);
  t.is(loneThreads(4, 2, 2), 0);
  t.is(loneThreads(4, 1, 0), 0);
  t.is(loneThreads(4, 1, 3), 3);
});

test('EMBEDDING_LONE_THREADS unset: the lone worker only where the memory budget has room for it', (t) => {
  const auto = parseConfig({}, 2);
  t.like(auto, { loneThreads: 2, loneAuto: true });
  t.is(loneWorkerThreads(auto, LONE_AUTO_MIN_BUDGET_BYTES), 2);
  t.is(loneWorkerThreads(auto, LONE_AUTO_MIN_BUDGET_BYTES - 1), 0, 'a tight container keeps its memory for batches');
  // Set by hand, it is what was asked whatever the budget; 0 is off.
  t.is(loneWorkerThreads(parseConfig({ EMBEDDING_LONE_THREADS: '2' }, 2), 512 * 2 ** 20), 2);
  t.is(loneWorkerThreads(parseConfig({ EMBEDDING_LONE_THREADS: '0' }, 2), 64 * 2 ** 30), 0);
  // One core: a regular worker already has every core.
  t.is(loneWorkerThreads(parseConfig({}, 1), 64 * 2 ** 30), 0);
});

test('idle-thread modes as onnxruntime config entries: brief spins at most BRIEF_SPIN_US and stops when a run returns', (t) => {
  t.deepEqual(idleThreadsConfig('brief'), { session: { intra_op: { allow_spinning: '1', spin_duration_us: String(BRIEF_SPIN_US) }, force_spinning_stop: '1' } });
  t.deepEqual(idleThreadsConfig('sleep'), { session: { intra_op: { allow_spinning: '0' } } });
  t.deepEqual(idleThreadsConfig('spin'), { session: { intra_op: { allow_spinning: '1' } } });
});
