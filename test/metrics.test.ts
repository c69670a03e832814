import test from 'ava';
import { useApp } from '../harness/app.js';
import { metricValue } from '../harness/probe.js';

/**
 * GET /metrics (src/metrics.ts) behind the real app, in process: request metrics by route template,
 * the embedding, batch and queue metrics the embedder feeds, readiness, process metrics and the
 * supervisor's gauges. e2e/embed checks the same names on the real service's wiring.
 */
const KEY = 'metrics-test-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
const app = useApp(test, {
  EMBEDDING_API_KEY: KEY,
  EMBEDDING_MAX_QUEUED_CHUNKS: '200',
  EMBEDDING_MAX_CHUNKS_PER_REQUEST: '200',
  EMBEDDING_MIN_BATCH_SIZE: '4',
  EMBEDDING_MAX_BATCH_SIZE: '4',
});

test('/metrics exposes request, embedding, batch, queue and process metrics in Prometheus format', async (t) => {
  const chunks = Array.from({ length: 10 }, (_, i) => ({ chunk_id: `c${i}`, content: `chunk ${i}` }));
  t.is((await app.post('/embed', { batch_id: 'b', chunks }, AUTH)).status, 200);
  t.is((await app.post('/embed', { batch_id: 'b', chunks })).status, 401);
  t.is((await fetch(`${app.url}/nope`)).status, 401);
  t.is((await app.post('/v1/embeddings', { model: 'm', input: ['one', 'two'] }, AUTH)).status, 200);
  const res = await fetch(`${app.url}/metrics`);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  for (const pattern of [
    /^http_requests_total\{method="POST",route="\/embed",status="200"\} 1$/m,
    /^http_requests_total\{method="POST",route="\/v1\/embeddings",status="200"\} 1$/m,
    /^http_requests_total\{method="POST",route="\/embed",status="401"\} 1$/m,
    /^http_requests_total\{method="GET",route="unmatched",status="401"\} 1$/m,
    /^http_request_duration_seconds_bucket\{le="0\.1",method="POST",route="\/embed",status="200"\} \d+/m,
    /^embedding_chunks_total 12$/m,
    /^embedding_tokens_total \d+/m,
    // Ten chunks in batches of at most four, then two: four batches, all of four or fewer.
    /^embedding_batch_size_bucket\{le="4"\} 4$/m,
    /^embedding_batch_duration_seconds_count\{outcome="ok"\} 4$/m,
    /^embedding_queue_chunks 0$/m,
    /^embedding_queue_max_chunks 200$/m,
    /^embedding_inflight_batches \d+$/m,
    /^embedding_ready 1$/m,
    /^process_resident_memory_bytes \d+/m,
    /^nodejs_eventloop_lag_seconds /m,
    /^embedding_supervisor_batch_size \d+/m,
    /^embedding_supervisor_workers \d+/m,
    /^embedding_supervisor_budget_bytes \d+/m,
  ]) {
    t.regex(text, pattern);
  }
  t.is(await metricValue(app.url, 'embedding_tokens_total'), 10 * 4 + 2 * 3);
});
