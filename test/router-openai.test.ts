import test from 'ava';
import OpenAI from 'openai';
import { OpenAIEmbeddingResponse } from '../src/router/schemas.js';
import { useApp } from '../harness/app.js';

/**
 * POST /v1/embeddings driven by the official `openai` client against the stub embedder: the route
 * hands out /embed's vectors, as floats or as little-endian float32 base64, with /embed's token
 * counts. e2e/openai does the same with the real model.
 */
const app = useApp(test);
let client: OpenAI;
const TEXTS = ['def add(a, b):\n    return a + b', 'Adds two numbers.', '', 'Größenordnung — 東京 — مرحبا', 'token '.repeat(600)];

test.serial.before(() => {
  client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'not-checked-without-EMBEDDING_API_KEY', maxRetries: 0 });
});

async function embedVectors(texts: string[]): Promise<{ vectors: number[][]; tokens: number }> {
  const res = await app.post('/embed', { batch_id: 'cmp', chunks: texts.map((content, i) => ({ chunk_id: `c${i}`, content })) });
  return { vectors: res.json.vectors.map((e: { vector: number[] }) => e.vector), tokens: res.json.usage.tokens };
}

test('float and base64 vectors are /embed’s, in input order, with its token counts', async (t) => {
  const expected = await embedVectors(TEXTS);
  const floats = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: TEXTS, encoding_format: 'float' });
  t.like(floats, { object: 'list', model: 'sentence-transformers/all-MiniLM-L6-v2', usage: { prompt_tokens: expected.tokens, total_tokens: expected.tokens } });
  t.deepEqual(floats.data.map((d) => d.index), [0, 1, 2, 3, 4]);
  t.deepEqual(floats.data.map((d) => d.embedding), expected.vectors);
  // The client's default asks for base64 and decodes it as little-endian float32.
  const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input: TEXTS });
  t.deepEqual(decoded.data.map((d) => Array.from(d.embedding)), expected.vectors);
});

test('a single string input gives one embedding; unknown fields (user) are accepted', async (t) => {
  const res = await app.post('/v1/embeddings', { model: 'm', input: 'one', user: 'someone', encoding_format: 'float' });
  t.is(res.status, 200);
  const body = OpenAIEmbeddingResponse.parse(res.json);
  t.is(body.data.length, 1);
  t.true(body.usage.prompt_tokens >= 3);
});
