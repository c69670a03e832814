import test from 'ava';
import OpenAI from 'openai';
import { ErrorResponse, OpenAIErrorResponse } from '../src/router/schemas.js';
import { useApp } from '../harness/app.js';

/**
 * Request validation on both POST routes, in process: every malformed request gets its status and
 * error code in the route's error shape, naming the field at fault, with no stack trace, and the next
 * good request still succeeds.
 */
const BODY_LIMIT = 1024 * 1024;
const app = useApp(test, { EMBEDDING_MAX_BODY_BYTES: String(BODY_LIMIT) });
let client: OpenAI;

test.serial.before(() => {
  client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'not-checked-without-EMBEDDING_API_KEY', maxRetries: 0 });
});

const embed = (body: unknown, headers?: Record<string, string>) => app.post('/embed', body, headers);
const v1 = (body: unknown, headers?: Record<string, string>) => app.post('/v1/embeddings', body, headers);

const GOOD = { batch_id: 'ok', chunks: [{ chunk_id: 'c', content: 'still serving' }] };
const oversized = JSON.stringify({ batch_id: 'x', chunks: [{ chunk_id: 'c', content: 'a'.repeat(BODY_LIMIT) }] });

const badInputs: Array<[string, string | unknown, number, string, Record<string, string>?]> = [
  ['malformed JSON', '{"batch_id": "x", "chunks": [', 400, 'invalid_json'],
  ['an array body', '[]', 422, 'validation_failed'],
  ['a string body', '"hello"', 422, 'validation_failed'],
  ['a null body', 'null', 422, 'validation_failed'],
  ['missing batch_id', { chunks: [{ chunk_id: 'a', content: 'x' }] }, 422, 'validation_failed'],
  ['numeric batch_id', { batch_id: 7, chunks: [{ chunk_id: 'a', content: 'x' }] }, 422, 'validation_failed'],
  ['missing chunks', { batch_id: 'x' }, 422, 'validation_failed'],
  ['chunks not an array', { batch_id: 'x', chunks: { chunk_id: 'a', content: 'x' } }, 422, 'validation_failed'],
  ['empty chunks', { batch_id: 'x', chunks: [] }, 422, 'validation_failed'],
  ['a chunk that is not an object', { batch_id: 'x', chunks: ['text'] }, 422, 'validation_failed'],
  ['a null chunk', { batch_id: 'x', chunks: [null] }, 422, 'validation_failed'],
  ['a chunk without chunk_id', { batch_id: 'x', chunks: [{ content: 'x' }] }, 422, 'validation_failed'],
  ['a chunk without content', { batch_id: 'x', chunks: [{ chunk_id: 'a' }] }, 422, 'validation_failed'],
  ['a numeric chunk_id', { batch_id: 'x', chunks: [{ chunk_id: 1, content: 'x' }] }, 422, 'validation_failed'],
  ['a null content', { batch_id: 'x', chunks: [{ chunk_id: 'a', content: null }] }, 422, 'validation_failed'],
  ['an object content', { batch_id: 'x', chunks: [{ chunk_id: 'a', content: { text: 'x' } }] }, 422, 'validation_failed'],
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

test('accepted as the original worker accepted them: an empty batch_id, empty and repeated chunk_ids (answered by position)', async (t) => {
  const chunks = [
    { chunk_id: 'a', content: 'x' },
    { chunk_id: '', content: 'y' },
    { chunk_id: 'a', content: 'z' },
  ];
  const res = await embed({ batch_id: '', chunks });
  t.is(res.status, 200, res.text);
  t.is(res.json.batch_id, '');
  t.deepEqual(
    res.json.vectors.map((v: { chunk_id: string }) => v.chunk_id),
    ['a', '', 'a'],
  );
});

test('a body without Content-Type is read as JSON; another type is 415 naming the type sent', async (t) => {
  const res = await fetch(`${app.url}/embed`, { method: 'POST', body: new Blob([JSON.stringify(GOOD)]) });
  t.is(res.status, 200);
  const form = await embed(JSON.stringify(GOOD), { 'content-type': 'application/x-www-form-urlencoded' });
  t.is(form.status, 415);
  t.regex(form.json.error.message, /sent as application\/x-www-form-urlencoded/);
  t.is((await embed(JSON.stringify(GOOD), { 'content-type': 'application/vnd.doctown+json' })).status, 200);
});

test('error messages point at the offending field', async (t) => {
  const res = await embed({ batch_id: 'x', chunks: [{ chunk_id: 'a', content: 'x' }, { chunk_id: 'b', content: 5 }] });
  t.is(res.status, 422);
  t.regex(res.json.error.message, /^chunks\[1\]\.content: /);
});

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
