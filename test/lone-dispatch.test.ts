import test from 'ava';
import { defaultLoneThreads, loneThreads } from '../src/config.js';
import { chooseWorker, type DispatchView } from '../src/workers/dispatch.js';

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
  t.is(loneThreads(2, 1, undefined), defaultLoneThreads(2) > 1 ? defaultLoneThreads(2) : 0);
  t.is(loneThreads(16, 1, 16), 8);
  t.is(loneThreads(1, 1, undefined), 0);
  t.is(loneThreads(4, 2, 2), 0);
  t.is(loneThreads(4, 1, 0), 0);
  t.is(loneThreads(4, 1, 3), 3);
});
