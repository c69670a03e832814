import test from 'ava';
import { EmbedResponse, ErrorResponse } from '../src/router/schemas.js';
import { cosine, postJson, startServer, type RunningServer } from '../harness/server.js';

let server: RunningServer;
const BODY_LIMIT = 1024 * 1024;

test.before(async () => {
  server = await startServer({ EMBEDDING_MAX_BODY_BYTES: String(BODY_LIMIT) });
  await server.waitReady();
});
test.after.always(async () => {
  await server?.stop();
});

const embed = (body: unknown, headers?: Record<string, string>) => postJson(`${server.url}/embed`, body, headers);

async function embedOne(content: string): Promise<number[]> {
  const res = await embed({ batch_id: 'one', chunks: [{ chunk_id: 'x', content }] });
  if (res.status !== 200) throw new Error(res.text);
  return res.json.embeddings[0].embedding;
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
  t.deepEqual(body.embeddings.map((e) => e.chunk_id), ['a', 'empty']);
  // An empty string is valid: [CLS] [SEP] still gets a vector.
  t.is(body.embeddings[1]!.tokens, 2);
  t.is(body.usage.chunks, 2);
  t.is(body.usage.tokens, body.embeddings[0]!.tokens + 2);
  for (const e of body.embeddings) t.true(Math.abs(Math.hypot(...e.embedding) - 1) < 1e-5);
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
  t.is(body.embeddings.length, 1000);
  t.deepEqual(
    body.embeddings.map((e) => e.chunk_id),
    chunks.map((c) => c.chunk_id),
  );
  // Each result belongs to its own chunk: compare a sample with the chunk embedded alone.
  for (const i of [0, 1, 7, 500, 998, 999]) {
    const alone = await embedOne(chunks[i]!.content);
    t.true(cosine(alone, body.embeddings[i]!.embedding) > 0.99999, `chunk ${i}`);
  }
  t.true(cosine(body.embeddings[0]!.embedding, body.embeddings[1]!.embedding) < 0.9999);
});

test('text beyond 256 word pieces is truncated and flagged', async (t) => {
  const res = await embed({ batch_id: 'long', chunks: [{ chunk_id: 'l', content: 'token '.repeat(1000) }] });
  t.is(res.status, 200);
  t.is(res.json.embeddings[0].tokens, 256);
  t.true(res.json.embeddings[0].truncated);
});

const GOOD = { batch_id: 'ok', chunks: [{ chunk_id: 'c', content: 'still serving' }] };
const oversized = JSON.stringify({ batch_id: 'x', chunks: [{ chunk_id: 'c', content: 'a'.repeat(BODY_LIMIT) }] });

const badInputs: Array<[string, string | unknown, number, string, Record<string, string>?]> = [
  ['malformed JSON', '{"batch_id": "x", "chunks": [', 400, 'invalid_json'],
  ['an array body', '[]', 400, 'invalid_request'],
  ['a string body', '"hello"', 400, 'invalid_request'],
  ['a null body', 'null', 400, 'invalid_request'],
  ['missing batch_id', { chunks: [{ chunk_id: 'a', content: 'x' }] }, 400, 'invalid_request'],
  ['empty batch_id', { batch_id: '', chunks: [{ chunk_id: 'a', content: 'x' }] }, 400, 'invalid_request'],
  ['numeric batch_id', { batch_id: 7, chunks: [{ chunk_id: 'a', content: 'x' }] }, 400, 'invalid_request'],
  ['missing chunks', { batch_id: 'x' }, 400, 'invalid_request'],
  ['chunks not an array', { batch_id: 'x', chunks: { chunk_id: 'a', content: 'x' } }, 400, 'invalid_request'],
  ['empty chunks', { batch_id: 'x', chunks: [] }, 400, 'invalid_request'],
  ['a chunk that is not an object', { batch_id: 'x', chunks: ['text'] }, 400, 'invalid_request'],
  ['a null chunk', { batch_id: 'x', chunks: [null] }, 400, 'invalid_request'],
  ['a chunk without chunk_id', { batch_id: 'x', chunks: [{ content: 'x' }] }, 400, 'invalid_request'],
  ['a chunk without content', { batch_id: 'x', chunks: [{ chunk_id: 'a' }] }, 400, 'invalid_request'],
  ['a numeric chunk_id', { batch_id: 'x', chunks: [{ chunk_id: 1, content: 'x' }] }, 400, 'invalid_request'],
  ['a null content', { batch_id: 'x', chunks: [{ chunk_id: 'a', content: null }] }, 400, 'invalid_request'],
  ['an object content', { batch_id: 'x', chunks: [{ chunk_id: 'a', content: { text: 'x' } }] }, 400, 'invalid_request'],
  ['duplicate chunk_ids', { batch_id: 'x', chunks: [{ chunk_id: 'a', content: 'x' }, { chunk_id: 'a', content: 'y' }] }, 400, 'duplicate_chunk_id'],
  ['a body over the limit', oversized, 413, 'payload_too_large'],
  ['a text/plain body', JSON.stringify(GOOD), 415, 'unsupported_media_type', { 'content-type': 'text/plain' }],
];

for (const [name, body, status, code, headers] of badInputs) {
  test(`bad input: ${name} → ${status} ${code}, then a good request still succeeds`, async (t) => {
    const res = await embed(body, headers);
    t.is(res.status, status, res.text);
    t.true(res.headers.get('content-type')!.startsWith('application/json'));
    const error = ErrorResponse.parse(res.json);
    t.is(error.error.code, code);
    t.false(res.text.includes('    at '), 'no stack trace');
    const good = await embed(GOOD);
    t.is(good.status, 200);
  });
}

test('error messages point at the offending field', async (t) => {
  const res = await embed({ batch_id: 'x', chunks: [{ chunk_id: 'a', content: 'x' }, { chunk_id: 'b', content: 5 }] });
  t.is(res.status, 400);
  t.regex(res.json.error.message, /^chunks\[1\]\.content: /);
});

test('unknown routes get a JSON 404', async (t) => {
  const res = await fetch(`${server.url}/nope`);
  t.is(res.status, 404);
  t.is(((await res.json()) as any).error.code, 'not_found');
});

test('the OpenAPI document is served and describes /embed', async (t) => {
  const res = await fetch(`${server.url}/openapi.json`);
  t.is(res.status, 200);
  const doc = (await res.json()) as any;
  t.is(doc.openapi, '3.1.0');
  t.truthy(doc.paths['/embed'].post.requestBody);
  t.truthy(doc.paths['/health'].get);
});
