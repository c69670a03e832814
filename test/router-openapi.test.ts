import test from 'ava';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { BatchFailedError } from '../src/core/batch-runner.js';
import { QueueFullError } from '../src/core/scheduler.js';
import { useApp } from '../harness/app.js';
import { type postJson, readResponse } from '../harness/server.js';

/**
 * Responses of the real app (stub embedder, in process), success and error, checked against the
 * OpenAPI document it serves: every status a route answers must be documented, and every JSON body
 * must validate (ajv, JSON Schema 2020-12) against the schema documented for it. Requests are checked
 * the same way.
 */
const KEY = 'openapi-test-key';
const AUTH = { authorization: `Bearer ${KEY}` };
const app = useApp(test, { EMBEDDING_API_KEY: KEY, EMBEDDING_MAX_CHUNKS_PER_REQUEST: '10', EMBEDDING_MAX_CHUNK_CHARS: '1000', EMBEDDING_MAX_BODY_BYTES: '65536' });
let doc: any;
const early: Array<{ path: string; method: string; res: Awaited<ReturnType<typeof postJson>> }> = [];

test.serial.before(async () => {
  // What the service answers while it loads (503s) must be documented too.
  app.status.ready = false;
  early.push({ path: '/health', method: 'get', res: await get('/health') });
  early.push({ path: '/ready', method: 'get', res: await get('/ready') });
  early.push({ path: '/embed', method: 'post', res: await app.post('/embed', { batch_id: 'b', chunks: [{ chunk_id: 'c', content: 'x' }] }, AUTH) });
  early.push({ path: '/v1/embeddings', method: 'post', res: await app.post('/v1/embeddings', { model: 'm', input: 'x' }, AUTH) });
  app.status.ready = true;
  const res = await fetch(`${app.url}/openapi.json`, { headers: AUTH });
  doc = await res.json();
});

async function get(path: string, headers: Record<string, string> = {}) {
  return readResponse(await fetch(`${app.url}${path}`, { headers }));
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const compiled = new Map<object, ValidateFunction>();
function validator(schema: object): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/** Checks one real response against the document; returns the problems found. */
function check(path: string, method: string, res: { status: number; headers: Headers; json: unknown }): string[] {
  const operation = doc.paths?.[path]?.[method];
  if (!operation) return [`${method.toUpperCase()} ${path} is not in the document`];
  const documented = operation.responses[String(res.status)];
  if (!documented) return [`${method.toUpperCase()} ${path} answered ${res.status}, which is not documented`];
  const problems: string[] = [];
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (documented.content && !documented.content[type]) problems.push(`${res.status} came as ${type}, documented as ${Object.keys(documented.content).join(', ')}`);
  const schema = documented.content?.[type]?.schema;
  if (schema && type === 'application/json') {
    const validate = validator(schema);
    if (!validate(res.json)) problems.push(`${res.status} body does not match: ${ajv.errorsText(validate.errors)}`);
  }
  for (const header of Object.keys(documented.headers ?? {})) {
    if (!res.headers.get(header)) problems.push(`${res.status} lacks the documented ${header} header`);
  }
  return problems;
}

function requestValid(path: string, body: unknown): boolean {
  return validator(doc.paths[path].post.requestBody.content['application/json'].schema)(body) as boolean;
}

test('the document is OpenAPI 3.1 and describes every route', (t) => {
  t.is(doc.openapi, '3.1.0');
  for (const [path, method] of [
    ['/health', 'get'],
    ['/ready', 'get'],
    ['/metrics', 'get'],
    ['/openapi.json', 'get'],
    ['/embed', 'post'],
    ['/v1/embeddings', 'post'],
  ] as const) {
    t.truthy(doc.paths[path]?.[method], `${method} ${path}`);
  }
  // With EMBEDDING_API_KEY set, protected operations declare the bearer scheme and their 401.
  t.deepEqual(doc.paths['/embed'].post.security, [{ bearerAuth: [] }]);
  t.truthy(doc.paths['/v1/embeddings'].post.responses['401']);
  t.is(doc.paths['/health'].get.security, undefined);
  // The configured limits are in the request schema that validation uses.
  t.is(doc.paths['/v1/embeddings'].post.requestBody.content['application/json'].schema.properties.input.anyOf[1].maxItems, 10);
});

test('responses while the model loads match the document', (t) => {
  for (const { path, method, res } of early) {
    t.is(res.status, 503, `${method} ${path}`);
    t.deepEqual(check(path, method, res), [], `${method} ${path} ${res.status}`);
  }
});

test('GET routes: real responses match the document', async (t) => {
  t.deepEqual(check('/', 'get', await get('/')), []);
  t.deepEqual(check('/health', 'get', await get('/health')), []);
  t.deepEqual(check('/ready', 'get', await get('/ready')), []);
  t.deepEqual(check('/metrics', 'get', await get('/metrics')), []);
  t.deepEqual(check('/openapi.json', 'get', await get('/openapi.json', AUTH)), []);
  t.deepEqual(check('/openapi.json', 'get', await get('/openapi.json')), [], 'the 401');
});

const chunk = (i: number, content = `chunk ${i}`) => ({ chunk_id: `c${i}`, content });
const embedCases: Array<[string, unknown, number, Record<string, string>?]> = [
  ['a valid request', { batch_id: 'b', chunks: [chunk(0), chunk(1, '')] }, 200],
  ['invalid fields', { batch_id: 'b', chunks: [{ chunk_id: 'a' }] }, 422],
  ['duplicate chunk ids (accepted, as the original worker did)', { batch_id: 'b', chunks: [chunk(0), chunk(0)] }, 200],
  ['malformed JSON', '{"batch_id":', 400],
  ['too many chunks', { batch_id: 'b', chunks: Array.from({ length: 11 }, (_, i) => chunk(i)) }, 413],
  ['a chunk over the character cut (cut, not refused)', { batch_id: 'b', chunks: [chunk(0, 'x'.repeat(1001))] }, 200],
  ['a body over the byte limit', { batch_id: 'b', chunks: [chunk(0, 'x'.repeat(70_000))] }, 413],
  ['a text/plain body', 'hello', 415, { ...AUTH, 'content-type': 'text/plain' }],
  ['no API key', { batch_id: 'b', chunks: [chunk(0)] }, 401, {}],
];
for (const [name, body, status, headers] of embedCases) {
  test(`POST /embed, ${name}: ${status} matches the document`, async (t) => {
    const res = await app.post('/embed', body, headers ?? AUTH);
    t.is(res.status, status, res.text);
    t.deepEqual(check('/embed', 'post', res), []);
  });
}

const v1Cases: Array<[string, unknown, number, Record<string, string>?]> = [
  ['float vectors', { model: 'm', input: ['a', 'b'], encoding_format: 'float' }, 200],
  ['base64 vectors', { model: 'm', input: 'a', encoding_format: 'base64' }, 200],
  ['dimensions 256', { model: 'm', input: 'a', dimensions: 256 }, 400],
  ['token ids', { model: 'm', input: [[1, 2, 3]] }, 400],
  ['too many inputs', { model: 'm', input: Array.from({ length: 11 }, () => 'x') }, 413],
  ['a text/plain body', 'hello', 415, { ...AUTH, 'content-type': 'text/plain' }],
  ['a wrong API key', { model: 'm', input: 'a' }, 401, { authorization: 'Bearer wrong' }],
];
for (const [name, body, status, headers] of v1Cases) {
  test(`POST /v1/embeddings, ${name}: ${status} matches the document`, async (t) => {
    const res = await app.post('/v1/embeddings', body, headers ?? AUTH);
    t.is(res.status, status, res.text);
    t.deepEqual(check('/v1/embeddings', 'post', res), []);
  });
}

test.serial('refusals (memory pressure, a full queue) and a failed batch match the document', async (t) => {
  const body = { batch_id: 'b', chunks: [chunk(0)] };
  app.memory.refusing = true;
  const memory = await app.post('/embed', body, AUTH);
  app.memory.refusing = false;
  app.embedder.failNext(new QueueFullError(1, 10, 10));
  const full = await app.post('/v1/embeddings', { model: 'm', input: 'x' }, AUTH);
  app.embedder.failNext(new BatchFailedError(0, 1, { cause: new Error('worker died') }));
  const failed = await app.post('/embed', body, AUTH);
  t.deepEqual([memory.status, full.status, failed.status], [503, 503, 500]);
  t.deepEqual([...check('/embed', 'post', memory), ...check('/v1/embeddings', 'post', full), ...check('/embed', 'post', failed)], []);
});

test('the documented request schemas accept what the server accepts and refuse what it refuses', (t) => {
  t.true(requestValid('/embed', { batch_id: 'b', chunks: [chunk(0)] }));
  t.false(requestValid('/embed', { batch_id: 'b', chunks: [{ chunk_id: 'a' }] }));
  t.false(requestValid('/embed', { batch_id: 'b', chunks: [] }));
  t.true(requestValid('/v1/embeddings', { model: 'm', input: ['a'], encoding_format: 'base64', dimensions: 384 }));
  t.false(requestValid('/v1/embeddings', { model: 'm', input: 'a', dimensions: 256 }));
  t.false(requestValid('/v1/embeddings', { model: 'm', input: Array.from({ length: 11 }, () => 'x') }));
  // Length is never a reason to refuse a text (issue 12).
  t.true(requestValid('/embed', { batch_id: '', chunks: [{ chunk_id: '', content: 'x'.repeat(1001) }] }));
  t.true(requestValid('/v1/embeddings', { model: 'm', input: 'x'.repeat(1001) }));
});

test('the checker itself catches a mismatch (guards against a vacuous pass)', (t) => {
  const fake = { status: 200, headers: new Headers({ 'content-type': 'application/json' }), json: { object: 'list' } };
  t.notDeepEqual(check('/v1/embeddings', 'post', fake), []);
  t.notDeepEqual(check('/embed', 'post', { ...fake, status: 418 }), []);
});
