import test from 'ava';
import { BatchFailedError } from '../src/core/batch-runner.js';
import { EmbedResponse } from '../src/router/schemas.js';
import { stubTokens, stubVector, useApp } from '../harness/app.js';

/**
 * POST /embed's answers, JSON and NDJSON, with the stub embedder: the response is built from the
 * embedder's rows in request order, ids kept, usage summed; a streamed failure is a JSON error before
 * the first line and an error line after it. The same with the real model is in e2e/embed and e2e/ndjson.
 */
const app = useApp(test);

const NDJSON = 'application/x-ndjson';
const embed = (body: unknown) => app.post('/embed', body);
const streamed = async (body: unknown, accept = NDJSON) => {
  const headers = { 'content-type': 'application/json', accept };
  const res = await fetch(`${app.url}/embed`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { res, lines: (await res.text()).split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, any>) };
};
const chunksOf = (count: number) => Array.from({ length: count }, (_, i) => ({ chunk_id: `chunk-${i}`, content: `function f${i}(x) { return x * ${i}; } `.repeat(1 + (i % 13)) }));
const sameVector = (got: number[], text: string) => {
  const expected = stubVector(text);
  return got.length === expected.length && got.every((v, d) => Math.abs(v - expected[d]!) < 1e-6);
};

test('a small request returns the documented shape, one result per chunk, each with its own vector', async (t) => {
  const chunks = [
    { chunk_id: 'a', content: 'def add(a, b):\n    return a + b' },
    { chunk_id: 'empty', content: '' },
  ];
  const res = await embed({ batch_id: 'b-1', chunks });
  t.is(res.status, 200);
  t.true(res.headers.get('content-type')!.startsWith('application/json'));
  const body = EmbedResponse.parse(res.json);
  t.like(body, { batch_id: 'b-1', model: 'sentence-transformers/all-MiniLM-L6-v2', dimensions: 384 });
  t.deepEqual(body.vectors.map((e) => e.chunk_id), ['a', 'empty']);
  body.vectors.forEach((e, i) => {
    t.true(sameVector(e.vector, chunks[i]!.content));
    t.is(e.tokens, stubTokens(chunks[i]!.content).tokens);
  });
  t.deepEqual(body.usage, { chunks: 2, tokens: body.vectors[0]!.tokens + body.vectors[1]!.tokens, cached_chunks: 0 });
});

test('a 1,000-chunk request keeps ids and order, and each result is its own chunk’s', async (t) => {
  const chunks = chunksOf(1000);
  const body = EmbedResponse.parse((await embed({ batch_id: 'big', chunks })).json);
  t.deepEqual(
    body.vectors.map((e) => e.chunk_id),
    chunks.map((c) => c.chunk_id),
  );
  t.true(body.vectors.every((e, i) => sameVector(e.vector, chunks[i]!.content)));
});

test('truncation as the embedder reports it is flagged per chunk', async (t) => {
  const res = await embed({ batch_id: 'long', chunks: [{ chunk_id: 'l', content: 'token '.repeat(1000) }, { chunk_id: 's', content: 'short' }] });
  t.like(res.json.vectors, [{ tokens: 256, truncated: true }, { truncated: false }]);
});

test('unknown routes get a JSON 404', async (t) => {
  const res = await fetch(`${app.url}/nope`);
  t.is(res.status, 404);
  t.is(((await res.json()) as any).error.code, 'not_found');
});

test('the OpenAPI document is served and describes /embed', async (t) => {
  const res = await fetch(`${app.url}/openapi.json`);
  t.is(res.status, 200);
  const doc = (await res.json()) as any;
  t.is(doc.openapi, '3.1.0');
  t.truthy(doc.paths['/embed'].post.requestBody);
  t.truthy(doc.paths['/health'].get);
});

test('without Accept: application/x-ndjson the response stays JSON', async (t) => {
  const { res, lines } = await streamed({ batch_id: 'j', chunks: [{ chunk_id: 'a', content: 'x' }] }, '*/*');
  t.true(res.headers.get('content-type')!.startsWith('application/json'));
  t.is(EmbedResponse.parse(lines[0]).vectors.length, 1);
});

test('NDJSON: one line per chunk across windows, in request order, the same entries as JSON, then a summary line', async (t) => {
  const chunks = chunksOf(300);
  const json = EmbedResponse.parse((await embed({ batch_id: 'same', chunks })).json);
  const { res, lines } = await streamed({ batch_id: 'same', chunks });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
  t.is(lines.length, chunks.length + 1);
  t.deepEqual(lines.slice(0, -1), json.vectors);
  t.like(lines.at(-1), { batch_id: 'same', model: json.model, dimensions: 384, usage: json.usage });
  t.false('vectors' in lines.at(-1)!);
});

test.serial('NDJSON: a failure before the first line is an ordinary JSON error with its status', async (t) => {
  app.embedder.failNext(new BatchFailedError(0, 3, { cause: new Error('worker died') }));
  const { res, lines } = await streamed({ batch_id: 'f', chunks: chunksOf(10) });
  t.is(res.status, 500);
  t.true(res.headers.get('content-type')!.startsWith('application/json'));
  t.deepEqual(lines, [{ error: { code: 'batch_failed', message: 'batch 1 of 3 failed on two workers; the request was not completed' } }]);
});

test.serial('NDJSON: a failure after the first window ends the stream with an error line and no summary', async (t) => {
  app.embedder.failNext(new Error('a worker died mid-stream'), 64);
  const { res, lines } = await streamed({ batch_id: 'f', chunks: chunksOf(200) });
  t.is(res.status, 200);
  t.is(lines.length, 64 + 1);
  t.deepEqual(lines.slice(0, 64).map((l) => l.chunk_id), chunksOf(64).map((c) => c.chunk_id));
  t.deepEqual(lines.at(-1), { error: { code: 'internal_error', message: 'a batch failed; the stream is incomplete' } });
  t.is((await embed({ batch_id: 'after', chunks: chunksOf(1) })).status, 200, 'the next request is served');
});
