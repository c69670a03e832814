import { getEventListeners } from 'node:events';
import test from 'ava';
import { linkedAbortController } from '../src/core/abort.js';
import { Embedder } from '../src/core/embedder.js';
import { RuntimeLimits } from '../src/core/runtime-limits.js';
import { BatchScheduler } from '../src/core/scheduler.js';
import type { BatchResult } from '../src/workers/batch-result.js';

const DIMS = 4;

function embedderWithFakeModel() {
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 4, maxConcurrency: 2 });
  const scheduler = new BatchScheduler<BatchResult>(async (texts) => {
    await new Promise((resolve) => setImmediate(resolve));
    return { vectors: new Float32Array(texts.length * DIMS), tokens: new Uint16Array(texts.length), truncated: new Uint8Array(texts.length) };
  }, limits);
  return { scheduler, embedder: new Embedder(scheduler, limits, DIMS, 1024) };
}

// The client's signal lives as long as its connection (keep-alive: many requests). Anything left
// listening on it keeps a finished request's texts alive; Node 20's AbortSignal.any did worse and
// kept every request (nodejs/node#55328), which the soak showed as a growing heap.
test('a finished request leaves no listener on the client signal, whole or streamed', async (t) => {
  const { embedder } = embedderWithFakeModel();
  const client = new AbortController();
  const texts = Array.from({ length: 40 }, (_, i) => `chunk ${i} `.repeat(1 + (i % 7)));
  for (let round = 0; round < 3; round++) {
    const out = await embedder.embed(texts, client.signal);
    t.is(out.count, 40);
    let streamed = 0;
    for await (const window of embedder.stream(texts, client.signal, { windowSize: 8 })) streamed += window.count;
    t.is(streamed, 40);
  }
  t.is(getEventListeners(client.signal, 'abort').length, 0);
});

test('the scheduler stops listening on a batch signal once the batch leaves the queue', async (t) => {
  const { scheduler } = embedderWithFakeModel();
  const request = new AbortController();
  const owner = {};
  const results = Array.from({ length: 6 }, (_, i) => scheduler.submit(owner, [`t${i}`], request.signal));
  t.true(getEventListeners(request.signal, 'abort').length > 0, 'waiting batches listen');
  await Promise.all(results);
  t.is(getEventListeners(request.signal, 'abort').length, 0);
});

test('the linked controller follows its parent, and unlinking lets go of it', (t) => {
  const parent = new AbortController();
  const { controller, unlink } = linkedAbortController(parent.signal);
  t.is(getEventListeners(parent.signal, 'abort').length, 1);
  unlink();
  t.is(getEventListeners(parent.signal, 'abort').length, 0);
  const second = linkedAbortController(parent.signal);
  parent.abort(new Error('client disconnected'));
  t.true(second.controller.signal.aborted);
  t.is((second.controller.signal.reason as Error).message, 'client disconnected');
  t.false(controller.signal.aborted, 'an unlinked controller no longer follows');
  const late = linkedAbortController(parent.signal);
  t.true(late.controller.signal.aborted, 'a parent already aborted aborts at once');
});
