import test from 'ava';
import { BatchFailedError } from '../src/core/batch-runner.js';
import { ErrorResponse, OpenAIErrorResponse } from '../src/router/schemas.js';
import { admitRequest } from '../src/supervisor/headroom.js';
import { useApp } from '../harness/app.js';
import { postRefusable } from '../harness/server.js';
import { jsonLines, metricValue, waitFor } from '../harness/probe.js';

/**
 * What the HTTP layer does when the service cannot take work: a full queue, memory pressure, the
 * model still loading, draining, a failed batch, a client that leaves. In process, with the stub
 * embedder simulating each state; serial, because each test sets a state and counts metrics.
 */
const MAX_QUEUED = 200;
const app = useApp(test, { EMBEDDING_MAX_QUEUED_CHUNKS: String(MAX_QUEUED), EMBEDDING_MAX_CHUNKS_PER_REQUEST: String(MAX_QUEUED) });

const embed = (body: unknown) => app.post('/embed', body);
const v1 = (body: unknown) => app.post('/v1/embeddings', body);
const request = (id: string, count: number) => ({
  batch_id: id,
  chunks: Array.from({ length: count }, (_, i) => ({ chunk_id: `${id}${i}`, content: `text ${i}` })),
});
const rejected = (reason: string) => metricValue(app.url, `embedding_rejected_requests_total{reason="${reason}"}`).then((v) => (Number.isNaN(v) ? 0 : v));

test.serial('backpressure: past EMBEDDING_MAX_QUEUED_CHUNKS a request gets 503 + Retry-After at once; the first still completes', async (t) => {
  const rejectedBefore = await rejected('queue_full');
  const chunksBefore = await metricValue(app.url, 'embedding_chunks_total');
  const release = app.embedder.hold();
  const first = embed(request('first', MAX_QUEUED));
  // Wait until the first request's chunks are waiting in the queue.
  await waitFor(async () => ((await metricValue(app.url, 'embedding_queue_chunks')) > MAX_QUEUED / 2 ? true : undefined));
  const second = await embed(request('second', MAX_QUEUED / 2 + 1));
  t.is(second.status, 503);
  t.is(second.headers.get('retry-after'), '1');
  t.is(ErrorResponse.parse(second.json).error.code, 'overloaded');
  const openAi = await v1({ model: 'm', input: Array.from({ length: MAX_QUEUED / 2 + 1 }, () => 'short') });
  t.is(openAi.status, 503);
  t.truthy(openAi.headers.get('retry-after'));
  t.like(OpenAIErrorResponse.parse(openAi.json).error, { code: 'overloaded', type: 'server_error' });

  release();
  const done = await first;
  t.is(done.status, 200);
  t.is(done.json.vectors.length, MAX_QUEUED);
  t.is(await rejected('queue_full'), rejectedBefore + 2);
  // Once the backlog has drained, the same request is accepted.
  t.is((await embed(request('later', 1))).status, 200);
  // The refused requests never reached the embedder: only the first and the later request's chunks ran.
  t.is((await metricValue(app.url, 'embedding_chunks_total')) - chunksBefore, MAX_QUEUED + 1);
});

test.serial('memory pressure: 503 memory_pressure with the supervisor’s Retry-After before the body is read, on both routes', async (t) => {
  const before = await rejected('memory_pressure');
  app.memory.refusing = true;
  app.memory.retryAfterSeconds = 7;
  try {
    const refused = await embed(request('m', 1));
    t.is(refused.status, 503);
    t.is(refused.headers.get('retry-after'), '7');
    t.is(ErrorResponse.parse(refused.json).error.code, 'memory_pressure');
    // Malformed JSON is refused the same way: the gate runs before the body parser.
    t.is((await embed('{"batch_id":')).json.error.code, 'memory_pressure');
    const openAi = await v1({ model: 'm', input: 'x' });
    t.like(OpenAIErrorResponse.parse(openAi.json).error, { code: 'memory_pressure', type: 'server_error' });
    t.is((await fetch(`${app.url}/health`)).status, 200, 'health and readiness are not gated');
    t.is(await rejected('memory_pressure'), before + 3);
  } finally {
    app.memory.refusing = false;
  }
  t.is((await embed(request('m', 1))).status, 200, 'relief: accepted again');
});

test.serial('while the model loads: /health and /ready 503 loading, work 503 model_loading + Retry-After; then 200', async (t) => {
  const before = await rejected('loading');
  app.status.ready = false;
  try {
    const health = await fetch(`${app.url}/health`);
    t.is(health.status, 503);
    t.like(await health.json(), { status: 'loading', model: 'sentence-transformers/all-MiniLM-L6-v2', dimensions: 384 });
    const ready = await fetch(`${app.url}/ready`);
    t.is(ready.status, 503);
    t.deepEqual(await ready.json(), { status: 'loading' });
    const early = await embed(request('early', 1));
    t.is(early.status, 503);
    t.is(early.json.error.code, 'model_loading');
    t.is(early.headers.get('retry-after'), '2');
    t.is((await v1({ model: 'm', input: 'x' })).json.error.code, 'model_loading');
    t.regex(await (await fetch(`${app.url}/metrics`)).text(), /^embedding_ready 0$/m);
    t.is(await rejected('loading'), before + 2);
  } finally {
    app.status.ready = true;
  }
  t.is((await fetch(`${app.url}/health`)).status, 200);
  t.deepEqual(await (await fetch(`${app.url}/ready`)).json(), { status: 'ready' });
  t.is((await embed(request('late', 1))).status, 200);
});

test.serial('draining: /ready turns 503 draining and responses close their connections; /health stays 200', async (t) => {
  app.lifecycle.draining = true;
  try {
    const ready = await fetch(`${app.url}/ready`);
    t.is(ready.status, 503);
    t.deepEqual(await ready.json(), { status: 'draining' });
    t.is(ready.headers.get('connection'), 'close');
    t.is((await fetch(`${app.url}/health`)).status, 200, 'liveness is unaffected by draining');
    const work = await embed(request('d', 1));
    t.is(work.status, 200, 'requests still arriving are served');
    t.is(work.headers.get('connection'), 'close');
  } finally {
    app.lifecycle.draining = false;
  }
});

test.serial('a failed batch is a 500 batch_failed naming the batch, logged with its cause, not shown; the next request succeeds', async (t) => {
  app.embedder.failNext(new BatchFailedError(2, 5, { cause: new Error('onnxruntime: secret internal detail') }));
  const failed = await embed(request('f', 3));
  t.is(failed.status, 500, failed.text);
  t.deepEqual(failed.json, { error: { code: 'batch_failed', message: 'batch 3 of 5 failed on two workers; the request was not completed' } });
  t.false(failed.text.includes('secret internal detail'));
  t.true(jsonLines(app.logs).some((l) => l.msg === 'batch failed after a retry' && JSON.stringify(l.err).includes('secret internal detail')));
  app.embedder.failNext(new BatchFailedError(0, 1, { cause: new Error('x') }));
  const openAi = await v1({ model: 'm', input: ['a'] });
  t.like(OpenAIErrorResponse.parse(openAi.json).error, { code: 'batch_failed', type: 'server_error' });
  t.is((await embed(request('next', 3))).status, 200);
});

test.serial('an unexpected error is a bare 500 internal_error, with no stack trace', async (t) => {
  app.embedder.failNext(new TypeError('cannot read properties of undefined'));
  const res = await embed(request('u', 1));
  t.is(res.status, 500);
  t.deepEqual(res.json, { error: { code: 'internal_error', message: 'internal error' } });
});

test.serial('a client that disconnects while its chunks are queued has them withdrawn, visible in /metrics', async (t) => {
  const release = app.embedder.hold();
  const controller = new AbortController();
  const body = JSON.stringify(request('gone', 50));
  const headers = { 'content-type': 'application/json' };
  const pending = fetch(`${app.url}/embed`, { method: 'POST', headers, body, signal: controller.signal }).catch(() => undefined);
  await waitFor(async () => ((await metricValue(app.url, 'embedding_queue_chunks')) === 50 ? true : undefined));
  controller.abort();
  await pending;
  await waitFor(async () => ((await metricValue(app.url, 'embedding_queue_chunks')) === 0 ? true : undefined));
  release();
  t.is(await metricValue(app.url, 'embedding_cancelled_chunks_total'), 50);
  t.true(jsonLines(app.logs).some((l) => l.msg === 'request abandoned: connection closed'));
  t.is((await embed(request('next', 1))).status, 200);
});

test.serial('admission by cost: under pressure a small request is still taken, a larger one waits, and a body that can never fit is refused at once', async (t) => {
  const MB = 2 ** 20;
  // A 600 MB budget over a 500 MB idle footprint, memory over budget at the floor: no headroom at all.
  app.memory.refusing = true;
  app.memory.admitRequest = (bodyBytes) => admitRequest({ bodyBytes, refusing: true, headroomBytes: -50 * MB, budgetBytes: 600 * MB, idleBytes: 500 * MB });
  try {
    const small = await embed(request('small', 1));
    t.is(small.status, 200, 'one chunk runs inside the arenas the workers already hold');
    const larger = await postRefusable(`${app.url}/embed`, { batch_id: 'larger', chunks: [{ chunk_id: 'a', content: 'x'.repeat(3 * MB) }] });
    t.is(larger.status, 503);
    t.is(ErrorResponse.parse(larger.json).error.code, 'memory_pressure');
    t.truthy(larger.headers.get('retry-after'));
    const never = await postRefusable(`${app.url}/embed`, { batch_id: 'never', chunks: [{ chunk_id: 'a', content: 'x'.repeat(40 * MB) }] });
    t.is(never.status, 507);
    const error = ErrorResponse.parse(never.json).error;
    t.is(error.code, 'insufficient_memory');
    t.regex(error.message, /needs about 121 MB .* leaves 100 MB .*smaller requests/);
  } finally {
    app.memory.refusing = false;
    delete app.memory.admitRequest;
  }
});
