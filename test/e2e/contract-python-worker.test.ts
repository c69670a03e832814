/**
 * The original Python Doctown embedding worker's contract (issue 12), run against the real server: what its own API
 * tests checked, what its three callers parse, and the environment it was deployed with. Written from the original's
 * observed behaviour, not from its code. Where this service answers differently on purpose, the test says so;
 * docs/MIGRATING.md lists every such difference.
 */
import test from 'ava';
import { z } from 'zod';
import { defaultModelDir } from '../../src/model/files.js';
import { cosine, postJson, readResponse, startServer, type RunningServer } from '../../harness/server.js';

let server: RunningServer;

test.before(async () => {
  // The original's environment: its names for the listen address, port and model directory (PORT and HOST unset), its
  // float memory percentage, and CORS open for the browser client (the original allowed every origin).
  server = await startServer({
    PORT: '',
    HOST: '',
    EMBEDDING_PORT: '0',
    EMBEDDING_HOST: '127.0.0.1',
    EMBEDDING_MODEL_PATH: defaultModelDir(),
    EMBEDDING_MAX_MEMORY_PERCENT: '70.0',
    EMBEDDING_CORS_ORIGIN: '*',
  });
  await server.waitReady();
});
test.after.always(async () => {
  await server?.stop();
});

/**
 * The original's response, as strictly as its strictest caller reads it: the Rust ingest client's serde structs
 * (`batch_id: String`, `vectors: Vec<ChunkVector>` required; `chunk_id: String`, `vector: Vec<f32>`). serde ignores
 * fields it does not know, so this service's extra fields are allowed beside them; everything named must be there
 * with exactly this type.
 */
const F32_MAX = 3.4028234663852886e38;
const OriginalChunkVector = z.object({
  chunk_id: z.string(),
  vector: z.array(z.number().finite().min(-F32_MAX).max(F32_MAX)).length(384),
});
const OriginalEmbedResponse = z.object({ batch_id: z.string(), vectors: z.array(OriginalChunkVector) });
const OriginalHealthResponse = z.object({ status: z.string(), model_loaded: z.boolean(), embedding_dim: z.number().int() });

const embed = (body: unknown, headers?: Record<string, string>) => postJson(`${server.url}/embed`, body, headers);
const chunk = (chunk_id: string, content: string) => ({ chunk_id, content });

/** Each of the original's three callers, reading a 200 answer the way it does. */
function rustClient(json: unknown): Array<[string, number[]]> {
  const parsed = OriginalEmbedResponse.parse(json);
  return parsed.vectors.map((v) => [v.chunk_id, v.vector]);
}
function websiteClient(json: any): string[] {
  const ids: string[] = [];
  for (const v of json.vectors) ids.push(v.chunk_id);
  return ids;
}
function serverlessBuilder(json: Record<string, unknown>): unknown[] {
  // Python's .get("vectors", []): a missing key silently gives nothing.
  return (json.vectors as unknown[] | undefined) ?? [];
}

// --- The original's own API tests (tests/test_api.py), case by case ---

test('health: 200 with status "healthy", model_loaded true and embedding_dim 384', async (t) => {
  const res = await readResponse(await fetch(`${server.url}/health`));
  t.is(res.status, 200);
  const health = OriginalHealthResponse.parse(res.json);
  t.is(health.status, 'healthy');
  t.is(health.model_loaded, true);
  t.is(health.embedding_dim, 384);
});

test('a valid request: batch_id echoed, one vector per chunk in order, 384 floats each', async (t) => {
  const res = await embed({
    batch_id: 'test_batch_001',
    chunks: [chunk('chunk_1', "function hello() { return 'world'; }"), chunk('chunk_2', 'class Parser { parse() {} }')],
  });
  t.is(res.status, 200);
  t.is(res.json.batch_id, 'test_batch_001');
  t.is(res.json.vectors.length, 2);
  t.is(res.json.vectors[0].chunk_id, 'chunk_1');
  t.is(res.json.vectors[1].chunk_id, 'chunk_2');
  t.is(res.json.vectors[0].vector.length, 384);
  t.is(res.json.vectors[1].vector.length, 384);
});

test('a single chunk', async (t) => {
  const res = await embed({ batch_id: 'test_batch_003', chunks: [chunk('single_chunk', 'def process(): pass')] });
  t.is(res.status, 200);
  t.is(res.json.vectors.length, 1);
  t.is(res.json.vectors[0].chunk_id, 'single_chunk');
});

test('50 chunks come back in request order', async (t) => {
  const chunks = Array.from({ length: 50 }, (_, i) => chunk(`chunk_${i}`, `function test${i}() { return ${i}; }`));
  const res = await embed({ batch_id: 'test_batch_large', chunks });
  t.is(res.status, 200);
  t.is(res.json.vectors.length, 50);
  res.json.vectors.forEach((v: { chunk_id: string }, i: number) => t.is(v.chunk_id, `chunk_${i}`));
});

// The original refused these with FastAPI's 422 and {"detail": [...]}; this service refuses them with the same 422 and its
// own {"error": {"code", "message"}} body (docs/MIGRATING.md). Every caller of the original treats any non-2xx as a failure.
const rejected: Array<[string, unknown]> = [
  ['an empty chunk list', { batch_id: 'test_batch_002', chunks: [] }],
  ['a missing batch_id', { chunks: [chunk('c1', 'test')] }],
  ['a chunk without chunk_id', { batch_id: 'test_batch_004', chunks: [{ content: 'test' }] }],
  ['a chunk without content', { batch_id: 'test_batch_005', chunks: [{ chunk_id: 'c1' }] }],
];
for (const [what, body] of rejected) {
  test(`refused, as the original refused it: ${what}`, async (t) => {
    const res = await embed(body);
    t.is(res.status, 422, res.text);
    t.is(res.json.error.code, 'validation_failed');
  });
}

test('CORS headers are present on OPTIONS /health (with EMBEDDING_CORS_ORIGIN=*)', async (t) => {
  const res = await fetch(`${server.url}/health`, { method: 'OPTIONS' });
  t.truthy(res.headers.get('access-control-allow-origin'));
});

// --- The original's callers ---

test('the seed README example parses in all three callers', async (t) => {
  const res = await embed({
    batch_id: 'repo-42',
    chunks: [
      chunk('src/app.ts#1', 'export function add(a: number, b: number) { return a + b; }'),
      chunk('README.md#1', 'Adds two numbers.'),
    ],
  });
  t.is(res.status, 200);
  const rust = rustClient(res.json);
  t.deepEqual(
    rust.map(([id]) => id),
    ['src/app.ts#1', 'README.md#1'],
  );
  t.deepEqual(websiteClient(res.json), ['src/app.ts#1', 'README.md#1']);
  t.is(serverlessBuilder(res.json).length, 2);
  // This service's own fields sit beside the original's.
  t.like(res.json, { batch_id: 'repo-42', model: 'sentence-transformers/all-MiniLM-L6-v2', dimensions: 384, usage: { chunks: 2 } });
  t.like(res.json.vectors[1], { tokens: 6, truncated: false });
  t.is(typeof res.json.timing_ms, 'number');
});

// The Rust client gives each batch 30 s; how long they take is measured by the benchmarks, not asserted here (it depends on the machine).
test('the Rust ingest client: 8 concurrent batches of 8 code chunks all answer, each parsed as its serde struct requires', async (t) => {
  const source = 'pub fn handle(request: &Request) -> Result<Response, Error> { let body = request.body()?; Ok(Response::new(body)) }\n';
  const started = Date.now();
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, b) =>
      // Whole functions of about 35 to 140 word pieces; test/e2e runs two suites at once, each with its own server.
      embed({ batch_id: `ingest-${b}`, chunks: Array.from({ length: 8 }, (_, i) => chunk(`${b}:${i}`, source.repeat(1 + ((b + i) % 4)))) }),
    ),
  );
  const elapsed = Date.now() - started;
  for (const [b, res] of results.entries()) {
    t.is(res.status, 200, res.text);
    t.is(rustClient(res.json).length, 8);
    t.is(res.json.batch_id, `ingest-${b}`);
  }
  t.log(`8 × 8 code chunks in ${elapsed} ms (the Rust client's timeout is 30,000 ms)`);
});

test('the website: a batch of 64 from a browser origin passes the CORS preflight and reads response.vectors', async (t) => {
  const origin = 'https://doctown.example';
  const preflight = await fetch(`${server.url}/embed`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  t.true(preflight.status === 204 || preflight.status === 200);
  t.is(preflight.headers.get('access-control-allow-origin'), '*');
  t.regex(preflight.headers.get('access-control-allow-headers') ?? '', /content-type/i);
  const chunks = Array.from({ length: 64 }, (_, i) => chunk(`doc-${i}`, `Section ${i}: how the parser handles case ${i}.`));
  const res = await embed({ batch_id: 'web', chunks }, { origin });
  t.is(res.status, 200);
  t.is(res.headers.get('access-control-allow-origin'), '*');
  t.deepEqual(
    websiteClient(res.json),
    chunks.map((c) => c.chunk_id),
  );
});

// --- What the original accepted and this service used to refuse ---

test('a body without Content-Type is read as JSON', async (t) => {
  const res = await readResponse(
    await fetch(`${server.url}/embed`, {
      method: 'POST',
      // A Blob without a type makes fetch send no Content-Type header at all (a string body would send text/plain).
      body: new Blob([JSON.stringify({ batch_id: 'no-type', chunks: [chunk('a', 'hello')] })]),
    }),
  );
  t.is(res.status, 200, res.text);
  t.is(rustClient(res.json)[0]![0], 'a');
});

test('a body declared as another type is still refused (415), as FastAPI refused it', async (t) => {
  const res = await embed(JSON.stringify({ batch_id: 'x', chunks: [chunk('a', 'b')] }), { 'content-type': 'text/plain' });
  t.is(res.status, 415);
});

test('duplicate and empty chunk_ids are answered by position', async (t) => {
  const res = await embed({
    batch_id: '',
    chunks: [chunk('same', 'first text'), chunk('', 'second text'), chunk('same', 'third text'), chunk('', 'first text')],
  });
  t.is(res.status, 200, res.text);
  const vectors = rustClient(res.json);
  t.deepEqual(
    vectors.map(([id]) => id),
    ['same', '', 'same', ''],
  );
  t.is(res.json.batch_id, '');
  // Same content, same vector; different content at the same id, a different vector.
  t.true(cosine(vectors[0]![1], vectors[3]![1]) > 0.99999);
  t.true(cosine(vectors[0]![1], vectors[2]![1]) < 0.99);
});

test('a chunk of any length gets a vector: what the model cannot see is cut, never refused', async (t) => {
  const line = 'export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event) });\n';
  const huge = line.repeat(Math.ceil(300_000 / line.length));
  const res = await embed({ batch_id: 'huge', chunks: [chunk('minified.js', huge), chunk('head', line.repeat(40))] });
  t.is(res.status, 200, res.text);
  const [big, head] = res.json.vectors;
  t.like(big, { chunk_id: 'minified.js', tokens: 256, truncated: true });
  t.like(head, { tokens: 256, truncated: true });
  // The model sees the same first 256 word pieces of both, so the vectors agree.
  t.true(cosine(big.vector, head.vector) > 0.99999);
});

test('GET / answers as the original did', async (t) => {
  const res = await readResponse(await fetch(`${server.url}/`));
  t.is(res.status, 200);
  t.deepEqual(res.json, { service: 'doctown-embedding-worker', status: 'running' });
});

test('NDJSON lines use the same per-chunk names', async (t) => {
  const res = await fetch(`${server.url}/embed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify({ batch_id: 'stream', chunks: [chunk('a', 'one'), chunk('b', 'two')] }),
  });
  const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(lines.length, 3);
  for (const line of lines.slice(0, 2)) OriginalChunkVector.parse(line);
  t.deepEqual(
    lines.slice(0, 2).map((l) => l.chunk_id),
    ['a', 'b'],
  );
  t.like(lines[2], { batch_id: 'stream' });
  t.false('vectors' in lines[2]!);
});

test('every /embed request logs embedding.batch_started.v1 and embedding.batch_completed.v1 with the original payloads', async (t) => {
  const res = await embed({ batch_id: 'events-1', chunks: [chunk('a', 'x'), chunk('b', 'y'), chunk('c', 'z')] });
  t.is(res.status, 200);
  // The completed event is logged once the answer is written; give the log line a moment to arrive.
  let events: Array<{ type: string; timestamp: string; payload: Record<string, unknown> }> = [];
  for (let i = 0; i < 50 && events.length < 2; i++) {
    events = server.logs
      .map((l) => JSON.parse(l) as { event?: (typeof events)[number] })
      .flatMap((l) => (l.event && l.event.payload.batch_id === 'events-1' ? [l.event] : []));
    if (events.length < 2) await new Promise((r) => setTimeout(r, 20));
  }
  t.deepEqual(
    events.map((e) => e.type),
    ['embedding.batch_started.v1', 'embedding.batch_completed.v1'],
  );
  t.deepEqual(events[0]!.payload, { batch_id: 'events-1', chunk_count: 3 });
  t.deepEqual(Object.keys(events[1]!.payload).sort(), ['batch_id', 'chunk_count', 'duration_ms']);
  t.like(events[1]!.payload, { batch_id: 'events-1', chunk_count: 3 });
  t.true(typeof events[1]!.payload.duration_ms === 'number' && events[1]!.payload.duration_ms >= 0);
  for (const e of events) t.regex(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
});
