import test from 'ava';
import { ErrorResponse, OpenAIErrorResponse } from '../src/router/schemas.js';
import { postJson, startServer, type RunningServer } from '../harness/server.js';

/**
 * The production interface on one server: API key, CORS, security headers, request ids and logs,
 * size limits, backpressure and metrics. Serial, because the backpressure test loads the pool and
 * the metrics test counts.
 */
const KEY = 'test-key-0123456789abcdef';
const AUTH = { authorization: `Bearer ${KEY}` };
const ORIGIN = 'https://app.example.com';
const MAX_CHUNKS = 200;
const MAX_CHARS = 5000;
let server: RunningServer;

test.before(async () => {
  server = await startServer({
    EMBEDDING_API_KEY: KEY,
    EMBEDDING_CORS_ORIGIN: `${ORIGIN}, https://other.example.com`,
    EMBEDDING_MAX_CHUNK_CHARS: String(MAX_CHARS),
    EMBEDDING_MAX_CHUNKS_PER_REQUEST: String(MAX_CHUNKS),
    EMBEDDING_MAX_QUEUED_CHUNKS: String(MAX_CHUNKS),
    // Small batches, so a modest request leaves a backlog in the queue.
    EMBEDDING_MIN_BATCH_SIZE: '4',
    EMBEDDING_MAX_BATCH_SIZE: '4',
  });
  await server.waitReady();
});
test.after.always(async () => {
  await server?.stop();
});

const embed = (body: unknown, headers: Record<string, string> = AUTH) => postJson(`${server.url}/embed`, body, headers);
const GOOD = { batch_id: 'ok', chunks: [{ chunk_id: 'c', content: 'still serving' }] };

function logLines(): Array<Record<string, any>> {
  return server.logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, any>];
    } catch {
      return [];
    }
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function metricValue(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l === name);
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

test.serial('without the key, protected routes answer 401 JSON; /health, /ready and /metrics stay open', async (t) => {
  const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-key' }, { authorization: `Basic ${KEY}` }, { authorization: `Bearer ${KEY}x` }];
  for (const headers of attempts) {
    const res = await embed(GOOD, headers);
    t.is(res.status, 401, JSON.stringify(headers));
    t.is(res.headers.get('www-authenticate'), 'Bearer');
    t.regex(ErrorResponse.parse(res.json).error.code, /^(missing|invalid)_api_key$/);
  }
  const openAi = await postJson(`${server.url}/v1/embeddings`, { model: 'm', input: 'x' }, { authorization: 'Bearer nope' });
  t.is(openAi.status, 401);
  t.like(OpenAIErrorResponse.parse(openAi.json).error, { code: 'invalid_api_key', type: 'invalid_request_error' });
  t.is((await fetch(`${server.url}/openapi.json`)).status, 401);
  t.is((await fetch(`${server.url}/nope`)).status, 401, 'unknown routes too: nothing is revealed without the key');

  for (const path of ['/health', '/ready', '/metrics']) t.is((await fetch(`${server.url}${path}`)).status, 200, path);
  t.is((await embed(GOOD)).status, 200);
  t.is((await fetch(`${server.url}/openapi.json`, { headers: AUTH })).status, 200);
  t.is((await fetch(`${server.url}/nope`, { headers: AUTH })).status, 404);
});

test.serial('security headers are set (helmet) and X-Powered-By is not', async (t) => {
  const res = await fetch(`${server.url}/health`);
  t.is(res.headers.get('x-content-type-options'), 'nosniff');
  t.is(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  t.truthy(res.headers.get('content-security-policy'));
  t.is(res.headers.get('x-powered-by'), null);
});

test.serial('CORS, when configured, allows the listed origins only (preflight needs no key)', async (t) => {
  const preflight = await fetch(`${server.url}/v1/embeddings`, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  t.is(preflight.status, 204);
  t.is(preflight.headers.get('access-control-allow-origin'), ORIGIN);
  t.regex(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
  const actual = await embed(GOOD, { ...AUTH, origin: ORIGIN });
  t.is(actual.headers.get('access-control-allow-origin'), ORIGIN);
  t.is(actual.headers.get('cross-origin-resource-policy'), 'cross-origin');
  const stranger = await embed(GOOD, { ...AUTH, origin: 'https://evil.example.com' });
  t.is(stranger.headers.get('access-control-allow-origin'), null);
});

test.serial('request ids: an incoming X-Request-Id is echoed, otherwise one is generated; one log line per request', async (t) => {
  const mine = await embed(GOOD, { ...AUTH, 'x-request-id': 'trace-abc.123' });
  t.is(mine.headers.get('x-request-id'), 'trace-abc.123');
  const generated = await embed(GOOD);
  t.regex(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  // An id that is not plain text is replaced rather than echoed.
  const weird = await embed(GOOD, { ...AUTH, 'x-request-id': 'x'.repeat(500) });
  t.not(weird.headers.get('x-request-id'), 'x'.repeat(500));

  const line = await waitFor(() => logLines().find((l) => l.request_id === 'trace-abc.123'));
  t.like(line, { level: 30, request_id: 'trace-abc.123', req: { method: 'POST', url: '/embed' }, res: { status: 200 }, chunks: 1 });
  t.true(line.tokens >= 3);
  t.is(typeof line.duration_ms, 'number');
  t.is(logLines().filter((l) => l.request_id === 'trace-abc.123').length, 1);
  t.false(JSON.stringify(logLines()).includes(KEY), 'the API key never reaches the log');

  const failed = await embed({ batch_id: 'x' }, { ...AUTH, 'x-request-id': 'bad-one' });
  t.is(failed.status, 400);
  const failedLine = await waitFor(() => logLines().find((l) => l.request_id === 'bad-one'));
  t.like(failedLine, { level: 40, res: { status: 400 }, error_code: 'invalid_request' });
});

test.serial('a chunk over EMBEDDING_MAX_CHUNK_CHARS is 413 naming its chunk_id; too many chunks is 413', async (t) => {
  const big = await embed({
    batch_id: 'b',
    chunks: [
      { chunk_id: 'fine', content: 'ok' },
      { chunk_id: 'src/huge.min.js#1', content: 'a'.repeat(MAX_CHARS + 1) },
    ],
  });
  t.is(big.status, 413);
  const error = ErrorResponse.parse(big.json).error;
  t.is(error.code, 'chunk_too_large');
  t.regex(error.message, /chunks\[1\]\.content \(chunk_id "src\/huge\.min\.js#1"\)/);
  t.is((await embed({ batch_id: 'b', chunks: [{ chunk_id: 'edge', content: 'a'.repeat(MAX_CHARS) }] })).status, 200);

  const many = await embed({ batch_id: 'b', chunks: Array.from({ length: MAX_CHUNKS + 1 }, (_, i) => ({ chunk_id: `c${i}`, content: 'x' })) });
  t.is(many.status, 413);
  t.is(many.json.error.code, 'too_many_chunks');

  const openAiLong = await postJson(`${server.url}/v1/embeddings`, { model: 'm', input: ['ok', 'a'.repeat(MAX_CHARS + 1)] }, AUTH);
  t.is(openAiLong.status, 413);
  t.like(OpenAIErrorResponse.parse(openAiLong.json).error, { code: 'chunk_too_large', param: 'input' });
  t.regex(openAiLong.json.error.message, /^input\[1\]/);
  const openAiMany = await postJson(`${server.url}/v1/embeddings`, { model: 'm', input: Array.from({ length: MAX_CHUNKS + 1 }, () => 'x') }, AUTH);
  t.is(openAiMany.status, 413);
  t.is(openAiMany.json.error.code, 'too_many_chunks');
});

test.serial('backpressure: past EMBEDDING_MAX_QUEUED_CHUNKS a request gets 503 + Retry-After at once; the first still completes', async (t) => {
  const rejectedBefore = (await fetch(`${server.url}/metrics`).then((r) => r.text())).match(/rejected_requests_total\{reason="queue_full"\} (\d+)/);
  // About 60 word pieces each: the request takes a few seconds on two cores, long enough to find its backlog queued.
  const longText = (i: number) => `function f${i}(value) { return value * ${i} + compute(value, ${i}); } `.repeat(3);
  const chunksBefore = await metricValue('embedding_chunks_total');
  const first = embed({ batch_id: 'first', chunks: Array.from({ length: MAX_CHUNKS, }, (_, i) => ({ chunk_id: `c${i}`, content: longText(i) })) });
  // Wait until the first request's batches are waiting for a worker.
  await waitFor(async () => ((await metricValue('embedding_queue_chunks')) > MAX_CHUNKS / 2 ? true : undefined));
  const second = await embed({ batch_id: 'second', chunks: Array.from({ length: MAX_CHUNKS / 2 + 1 }, (_, i) => ({ chunk_id: `d${i}`, content: 'short' })) });
  t.is(second.status, 503);
  t.is(second.headers.get('retry-after'), '1');
  t.is(ErrorResponse.parse(second.json).error.code, 'overloaded');
  const openAi = await postJson(`${server.url}/v1/embeddings`, { model: 'm', input: Array.from({ length: MAX_CHUNKS / 2 + 1 }, () => 'short') }, AUTH);
  t.is(openAi.status, 503);
  t.truthy(openAi.headers.get('retry-after'));
  t.like(OpenAIErrorResponse.parse(openAi.json).error, { code: 'overloaded', type: 'server_error' });

  const done = await first;
  t.is(done.status, 200);
  t.is(done.json.embeddings.length, MAX_CHUNKS);
  const rejected = await metricValue('embedding_rejected_requests_total{reason="queue_full"}');
  t.is(rejected, Number(rejectedBefore?.[1] ?? 0) + 2);
  // Once the backlog has drained, the same request is accepted.
  t.is((await embed({ batch_id: 'later', chunks: [{ chunk_id: 'x', content: 'short' }] })).status, 200);
  // The refused requests never reached the pool: only the first and the later request's chunks ran.
  t.is((await metricValue('embedding_chunks_total')) - chunksBefore, MAX_CHUNKS + 1);
});

test.serial('/metrics exposes request, embedding, batch, queue and process metrics in Prometheus format', async (t) => {
  await postJson(`${server.url}/v1/embeddings`, { model: 'm', input: ['one', 'two'] }, AUTH);
  const res = await fetch(`${server.url}/metrics`);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  for (const pattern of [
    /^http_requests_total\{method="POST",route="\/embed",status="200"\} \d+/m,
    /^http_requests_total\{method="POST",route="\/v1\/embeddings",status="200"\} \d+/m,
    /^http_requests_total\{method="POST",route="\/embed",status="401"\} \d+/m,
    /^http_requests_total\{method="GET",route="unmatched",status="401"\} \d+/m,
    /^http_request_duration_seconds_bucket\{le="0\.1",method="POST",route="\/embed",status="200"\} \d+/m,
    /^embedding_chunks_total \d+/m,
    /^embedding_tokens_total \d+/m,
    /^embedding_batch_size_bucket\{le="4"\} \d+/m,
    /^embedding_batch_duration_seconds_count\{outcome="ok"\} \d+/m,
    /^embedding_queue_chunks 0$/m,
    /^embedding_queue_max_chunks 200$/m,
    /^embedding_inflight_batches \d+$/m,
    /^embedding_ready 1$/m,
    /^process_resident_memory_bytes \d+/m,
    /^nodejs_eventloop_lag_seconds /m,
    /^embedding_supervisor_batch_size \d+/m,
    /^embedding_supervisor_workers \d+/m,
    /^embedding_supervisor_budget_bytes \d+/m,
  ]) {
    t.regex(text, pattern);
  }
  t.true((await metricValue('embedding_chunks_total')) >= MAX_CHUNKS + 2);
});
