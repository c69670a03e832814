/**
 * Worker faults, injected through the test-only EMBEDDING_TEST_FAULTS hook: a worker that throws
 * mid-batch and one whose thread dies. One failure costs a retry, not the request; two fail the
 * request loudly with the batch named, and the pool serves the next request.
 */
import test from 'ava';
import { FAULT_MARKER } from '../../src/workers/thread/fault-injection.js';
import { metricValue } from '../../harness/probe.js';
import { cosine, postJson, startServer, UNCACHED } from '../../harness/server.js';

const texts = Array.from({ length: 40 }, (_, i) => `chunk ${i}: ${'function add(a, b) { return a + b; } '.repeat(1 + (i % 5))}`);
const request = (withFault: boolean) => ({
  batch_id: 'faults',
  chunks: [...texts, ...(withFault ? [FAULT_MARKER] : [])].map((content, i) => ({ chunk_id: `c${i}`, content })),
});

/** Vectors from a server with no faults, to hold the retried answers to. */
let healthy: number[][];
test.before(async () => {
  const server = await startServer();
  try {
    await server.waitReady();
    const res = await postJson(`${server.url}/embed`, request(true));
    healthy = res.json.vectors.map((e: { vector: number[] }) => e.vector);
  } finally {
    await server.stop();
  }
});

for (const mode of ['throw', 'exit'] as const) {
  test.serial(`${mode}: one failure is retried on a worker and the request still returns every vector`, async (t) => {
    const server = await startServer({ EMBEDDING_TEST_FAULTS: `${mode}:1` });
    try {
      await server.waitReady();
      const res = await postJson(`${server.url}/embed`, request(true));
      t.is(res.status, 200, res.text);
      t.is(res.json.vectors.length, texts.length + 1);
      res.json.vectors.forEach((e: { chunk_id: string; vector: number[] }, i: number) => {
        t.is(e.chunk_id, `c${i}`);
        t.true(cosine(e.vector, healthy[i]!) > 0.99999, e.chunk_id);
      });
      t.true(server.logs.some((l) => l.includes('retrying once')), 'the retry is logged');
    } finally {
      t.is(await server.stop(), 0);
    }
  });

  test.serial(`${mode}: a batch that fails twice fails the request with a 500 naming the batch, and the pool heals`, async (t) => {
    const server = await startServer({ EMBEDDING_TEST_FAULTS: `${mode}:2` });
    try {
      await server.waitReady();
      const failed = await postJson(`${server.url}/embed`, request(true));
      t.is(failed.status, 500, failed.text);
      t.is(failed.json.error.code, 'batch_failed');
      t.regex(failed.json.error.message, /^batch \d+ of \d+ failed/);
      t.false(/\n\s+at /.test(failed.text), 'no stack trace');

      const openai = await postJson(`${server.url}/v1/embeddings`, { model: 'all-MiniLM-L6-v2', input: texts.slice(0, 3) });
      t.is(openai.status, 200, openai.text);
      const next = await postJson(`${server.url}/embed`, request(false));
      t.is(next.status, 200, next.text);
      t.is(next.json.vectors.length, texts.length);
      next.json.vectors.forEach((e: { vector: number[] }, i: number) => t.true(cosine(e.vector, healthy[i]!) > 0.99999));
    } finally {
      t.is(await server.stop(), 0);
    }
  });
}

test.serial('a client that disconnects mid-request has its queued batches withdrawn, visible in /metrics', async (t) => {
  // Uncached: the 2,000 chunks repeat a few texts, and the test needs them queued, not answered from the cache.
  const server = await startServer({ ...UNCACHED, EMBEDDING_MAX_BATCH_SIZE: '16' });
  try {
    await server.waitReady();
    const metric = (name: string) => metricValue(server.url, name);
    const controller = new AbortController();
    const big = Array.from({ length: 2000 }, (_, i) => ({ chunk_id: `b${i}`, content: texts[i % texts.length]! }));
    const pending = fetch(`${server.url}/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ batch_id: 'gone', chunks: big }),
      signal: controller.signal,
    }).catch(() => undefined);
    // Wait until its batches are queued, then hang up.
    while ((await metric('embedding_queue_chunks')) === 0) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await pending;
    while ((await metric('embedding_queue_chunks')) > 0) await new Promise((r) => setTimeout(r, 50));
    const cancelled = await metric('embedding_cancelled_chunks_total');
    t.log(`cancelled ${cancelled} of ${big.length} chunks`);
    t.true(cancelled > 0 && cancelled < big.length);
    const embedded = await metric('embedding_chunks_total');
    t.true(embedded < big.length, `the pool embedded ${embedded} chunks, not all ${big.length}`);
    const next = await postJson(`${server.url}/embed`, request(false));
    t.is(next.status, 200);
  } finally {
    t.is(await server.stop(), 0);
  }
});
