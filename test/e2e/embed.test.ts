import test from 'ava';
import { EmbedResponse } from '../../src/router/schemas.js';
import { metricValue } from '../../harness/probe.js';
import { cosine, postJson, startServer, type RunningServer } from '../../harness/server.js';

/**
 * POST /embed with the real model: the documented shape with real token counts and unit vectors,
 * order and ids across real batches and workers, truncation at 256 word pieces, and the service's
 * metrics wiring. Validation and error shapes are tested in process (router-*.test.ts).
 */
let server: RunningServer;

test.before(async () => {
  server = await startServer();
  await server.waitReady();
});
test.after.always(async () => {
  await server?.stop();
});

const embed = (body: unknown, headers?: Record<string, string>) => postJson(`${server.url}/embed`, body, headers);

async function embedOne(content: string): Promise<number[]> {
  const res = await embed({ batch_id: 'one', chunks: [{ chunk_id: 'x', content }] });
  if (res.status !== 200) throw new Error(res.text);
  return res.json.vectors[0].vector;
}

test('a small request returns the documented shape, one result per chunk', async (t) => {
  const res = await embed({
    batch_id: 'b-1',
    chunks: [
      { chunk_id: 'a', content: 'def add(a, b):\n    return a + b' },
      { chunk_id: 'empty', content: '' },
    ],
  });
  t.is(res.status, 200);
  t.true(res.headers.get('content-type')!.startsWith('application/json'));
  const body = EmbedResponse.parse(res.json);
  t.is(body.batch_id, 'b-1');
  t.is(body.model, 'sentence-transformers/all-MiniLM-L6-v2');
  t.deepEqual(body.vectors.map((e) => e.chunk_id), ['a', 'empty']);
  // An empty string is valid: [CLS] [SEP] still gets a vector.
  t.is(body.vectors[1]!.tokens, 2);
  t.is(body.usage.chunks, 2);
  t.is(body.usage.tokens, body.vectors[0]!.tokens + 2);
  for (const e of body.vectors) t.true(Math.abs(Math.hypot(...e.vector) - 1) < 1e-5);
});

test('a 1,000-chunk request keeps ids and order across batches and workers', async (t) => {
  // Lengths vary so the length-sorted batches differ from request order.
  const chunks = Array.from({ length: 1000 }, (_, i) => ({
    chunk_id: `chunk-${i}`,
    content: `function f${i}(x) { return x * ${i}; } `.repeat(1 + ((i * 7919) % 13)),
  }));
  const res = await embed({ batch_id: 'big', chunks });
  t.is(res.status, 200);
  const body = EmbedResponse.parse(res.json);
  t.is(body.vectors.length, 1000);
  t.deepEqual(
    body.vectors.map((e) => e.chunk_id),
    chunks.map((c) => c.chunk_id),
  );
  // Each result belongs to its own chunk: compare a sample with the chunk embedded alone.
  for (const i of [0, 1, 7, 500, 998, 999]) {
    const alone = await embedOne(chunks[i]!.content);
    t.true(cosine(alone, body.vectors[i]!.vector) > 0.99999, `chunk ${i}`);
  }
  t.true(cosine(body.vectors[0]!.vector, body.vectors[1]!.vector) < 0.9999);
});

test('text beyond 256 word pieces is truncated and flagged', async (t) => {
  const res = await embed({ batch_id: 'long', chunks: [{ chunk_id: 'l', content: 'token '.repeat(1000) }] });
  t.is(res.status, 200);
  t.is(res.json.vectors[0].tokens, 256);
  t.true(res.json.vectors[0].truncated);
});

test.serial('the real service feeds /metrics: batches, chunks and tokens it ran, its queue, readiness and the supervisor’s gauges', async (t) => {
  const before = await metricValue(server.url, 'embedding_chunks_total');
  await embedOne('counted once');
  t.is((await metricValue(server.url, 'embedding_chunks_total')) - before, 1);
  const text = await (await fetch(`${server.url}/metrics`)).text();
  for (const pattern of [
    /^embedding_tokens_total \d+/m,
    /^embedding_batch_duration_seconds_count\{outcome="ok"\} \d+/m,
    /^embedding_queue_chunks 0$/m,
    /^embedding_queue_max_chunks \d+$/m,
    /^embedding_inflight_batches \d+$/m,
    /^embedding_ready 1$/m,
    /^embedding_supervisor_batch_size \d+/m,
    /^embedding_supervisor_workers \d+/m,
    /^embedding_supervisor_budget_bytes \d+/m,
  ]) {
    t.regex(text, pattern);
  }
});
