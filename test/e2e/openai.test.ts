import test from 'ava';
import OpenAI from 'openai';
import { postJson, startServer, type RunningServer } from '../../harness/server.js';

/**
 * POST /v1/embeddings driven by the official `openai` npm client, pointed at the running server,
 * and compared vector for vector with POST /embed. The route's validation and errors are tested in
 * process (router-validation, router-openai).
 */
let server: RunningServer;
let client: OpenAI;

const TEXTS = [
  'def add(a, b):\n    return a + b',
  'Adds two numbers.',
  '',
  'Größenordnung — 東京 — مرحبا',
  'token '.repeat(600),
];

test.before(async () => {
  server = await startServer();
  await server.waitReady();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-checked-without-EMBEDDING_API_KEY', maxRetries: 0 });
});
test.after.always(async () => {
  await server?.stop();
});

async function embedVectors(texts: string[]): Promise<{ vectors: number[][]; tokens: number }> {
  const res = await postJson(`${server.url}/embed`, { batch_id: 'cmp', chunks: texts.map((content, i) => ({ chunk_id: `c${i}`, content })) });
  if (res.status !== 200) throw new Error(res.text);
  return { vectors: res.json.vectors.map((e: { vector: number[] }) => e.vector), tokens: res.json.usage.tokens };
}

function decodeBase64(value: string): number[] {
  const bytes = Buffer.from(value, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

test('the openai client gets float vectors identical to /embed', async (t) => {
  const expected = await embedVectors(TEXTS);
  const response = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: TEXTS, encoding_format: 'float' });
  t.is(response.object, 'list');
  t.is(response.model, 'sentence-transformers/all-MiniLM-L6-v2');
  t.deepEqual(response.data.map((d) => d.index), [0, 1, 2, 3, 4]);
  for (const [i, d] of response.data.entries()) {
    t.is(d.object, 'embedding');
    t.is(d.embedding.length, 384);
    t.deepEqual(d.embedding, expected.vectors[i], `input ${i}`);
  }
  t.is(response.usage.prompt_tokens, expected.tokens);
  t.is(response.usage.total_tokens, expected.tokens);
});

test('the openai client gets base64 (little-endian float32) vectors identical to /embed', async (t) => {
  const expected = await embedVectors(TEXTS);
  const response = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: TEXTS, encoding_format: 'base64' });
  t.is(response.data.length, TEXTS.length);
  for (const [i, d] of response.data.entries()) {
    t.is(typeof d.embedding, 'string');
    const vector = decodeBase64(d.embedding as unknown as string);
    t.is(vector.length, 384);
    t.deepEqual(vector, expected.vectors[i], `input ${i}`);
  }
});

test("the openai client's default (it asks for base64 and decodes it) matches /embed", async (t) => {
  const expected = await embedVectors(['hello world']);
  const response = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello world' });
  t.is(response.data.length, 1);
  t.deepEqual(Array.from(response.data[0]!.embedding), expected.vectors[0]);
});
