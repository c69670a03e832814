import test from 'ava';
import OpenAI from 'openai';
import { OpenAIEmbeddingResponse, OpenAIErrorResponse } from '../src/router/schemas.js';
import { postJson, startServer, type RunningServer } from '../harness/server.js';

/**
 * POST /v1/embeddings driven by the official `openai` npm client, pointed at the running server,
 * and compared vector for vector with POST /embed.
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
  return { vectors: res.json.embeddings.map((e: { embedding: number[] }) => e.embedding), tokens: res.json.usage.tokens };
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

test('dimensions: 384 is accepted, anything else is a 400 in OpenAI error shape', async (t) => {
  const ok = await client.embeddings.create({ model: 'm', input: 'x', dimensions: 384, encoding_format: 'float' });
  t.is(ok.data[0]!.embedding.length, 384);
  const error = await t.throwsAsync(client.embeddings.create({ model: 'm', input: 'x', dimensions: 256 }), { instanceOf: OpenAI.BadRequestError });
  t.is(error!.status, 400);
  t.is(error!.type, 'invalid_request_error');
  t.is(error!.param, 'dimensions');
  t.regex(error!.message, /dimensions must be 384/);
});

test('token-id input is refused with a clear 400', async (t) => {
  for (const input of [[101, 7592, 102], [[101, 7592, 102]]]) {
    const error = await t.throwsAsync(client.embeddings.create({ model: 'm', input: input as number[] }), { instanceOf: OpenAI.BadRequestError });
    t.is(error!.code, 'unsupported_input');
    t.is(error!.param, 'input');
    t.regex(error!.message, /token-id arrays are not supported/);
  }
});

const v1 = (body: unknown, headers?: Record<string, string>) => postJson(`${server.url}/v1/embeddings`, body, headers);

const badRequests: Array<[string, unknown, number, string, string | null]> = [
  ['missing input', { model: 'm' }, 400, 'invalid_request', 'input'],
  ['empty input array', { model: 'm', input: [] }, 400, 'invalid_request', 'input'],
  ['numeric input', { model: 'm', input: 5 }, 400, 'unsupported_input', 'input'],
  ['an object input', { model: 'm', input: { text: 'x' } }, 400, 'invalid_request', 'input'],
  ['missing model', { input: 'x' }, 400, 'invalid_request', 'model'],
  ['unknown encoding_format', { model: 'm', input: 'x', encoding_format: 'int8' }, 400, 'invalid_request', 'encoding_format'],
  ['malformed JSON', '{"input": [', 400, 'invalid_json', null],
];

for (const [name, body, status, code, param] of badRequests) {
  test(`/v1/embeddings: ${name} → ${status} ${code} in OpenAI's error shape`, async (t) => {
    const res = await v1(body);
    t.is(res.status, status, res.text);
    const parsed = OpenAIErrorResponse.parse(res.json);
    t.is(parsed.error.code, code);
    t.is(parsed.error.param, param);
    t.is(parsed.error.type, 'invalid_request_error');
    t.false(res.text.includes('    at '), 'no stack trace');
  });
}

test('/v1/embeddings answers a text/plain body with 415 in OpenAI shape', async (t) => {
  const res = await v1(JSON.stringify({ model: 'm', input: 'x' }), { 'content-type': 'text/plain' });
  t.is(res.status, 415);
  t.is(OpenAIErrorResponse.parse(res.json).error.code, 'unsupported_media_type');
});

test('a single string input gives one embedding; unknown fields (user) are accepted', async (t) => {
  const res = await v1({ model: 'm', input: 'one', user: 'someone', encoding_format: 'float' });
  t.is(res.status, 200);
  const body = OpenAIEmbeddingResponse.parse(res.json);
  t.is(body.data.length, 1);
  t.true(body.usage.prompt_tokens >= 3);
});

test('CORS is off unless configured: no Access-Control-Allow-Origin', async (t) => {
  const res = await fetch(`${server.url}/v1/embeddings`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
  });
  t.is(res.headers.get('access-control-allow-origin'), null);
});
