import test from 'ava';
import { EmbedResponse, HealthResponse } from '../../src/router/schemas.js';
import { postJson, startServer, type RunningServer } from '../../harness/server.js';
import { responseLines } from '../../harness/ndjson.js';

const MB = 1024 * 1024;
const BUDGET_MB = 1536;
let server: RunningServer;

test.before(async () => {
  // Batches of up to 256 one-word chunks: the 50,000-chunk test costs a third less than at 64.
  server = await startServer({ EMBEDDING_MAX_MEMORY_MB: String(BUDGET_MB), EMBEDDING_MEMORY_SAMPLE_MS: '100', EMBEDDING_MAX_BATCH_SIZE: '256' });
  await server.waitReady();
});
test.after.always(async () => {
  await server?.stop();
});

const NDJSON = 'application/x-ndjson';

const post = (body: unknown, accept = NDJSON) =>
  fetch(`${server.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });

test('NDJSON lines carry exactly what the JSON response does, in request order, then a summary line', async (t) => {
  const chunks = Array.from({ length: 300 }, (_, i) => ({
    chunk_id: `c-${i}`,
    content: i % 50 === 0 ? '' : `def f${i}(x):\n    return x * ${i}  # ` + 'word '.repeat((i * 7919) % 60),
  }));
  // The stream first, so its window path computes the vectors; the JSON answer then comes from the embedding cache,
  // which holds exactly what was computed (and would be the same computed: one window holds the whole request).
  const res = await post({ batch_id: 'same', chunks });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
  const got: any[] = [];
  for await (const line of responseLines(res)) got.push(JSON.parse(line));
  const json = EmbedResponse.parse((await postJson(`${server.url}/embed`, { batch_id: 'same', chunks })).json);
  t.is(got.length, chunks.length + 1);
  t.deepEqual(got.slice(0, -1), json.vectors);
  const summary = got.at(-1);
  t.deepEqual(summary.usage, { ...json.usage, cached_chunks: 0 });
  t.is(json.usage.cached_chunks, chunks.length);
  t.like(summary, { batch_id: 'same', model: json.model, dimensions: 384 });
  t.false('vectors' in summary);
});

test('a 50,000-chunk request streams every vector in order while RSS stays within the budget', async (t) => {
  const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'return', 'function', 'class', 'import', 'value', 'index', 'error', 'string', 'number', 'object', 'array', 'table'];
  const count = 50_000;
  const chunks = Array.from({ length: count }, (_, i) => ({ chunk_id: `n${i}`, content: WORDS[i % WORDS.length]! }));
  const single = new Map<string, number[]>();
  for (const word of WORDS.slice(0, 4)) {
    single.set(word, (await postJson(`${server.url}/embed`, { batch_id: 's', chunks: [{ chunk_id: 'x', content: word }] })).json.vectors[0].vector);
  }
  const res = await post({ batch_id: 'fifty-thousand', chunks });
  t.is(res.status, 200);
  let index = 0;
  let inOrder = true;
  let mismatches = 0;
  let summary: any;
  let checked = 0;
  for await (const line of responseLines(res)) {
    if (index === count) {
      summary = JSON.parse(line);
      index++;
      continue;
    }
    // Every line's id and position; every 61st line in full (parsing 400 MB of floats would dominate the test).
    if (!line.startsWith(`{"chunk_id":"n${index}","vector":[`)) inOrder = false;
    if (index % 61 === 0) {
      const entry = JSON.parse(line);
      if (entry.vector.length !== 384 || entry.tokens !== 3) inOrder = false;
      const expected = single.get(WORDS[index % WORDS.length]!);
      if (expected && Math.max(...expected.map((v, d) => Math.abs(v - entry.vector[d]))) > 1e-5) mismatches++;
      checked++;
    }
    index++;
  }
  t.true(checked > 800);
  t.is(index, count + 1, 'every chunk and the summary line');
  t.true(inOrder);
  t.is(mismatches, 0);
  t.like(summary, { batch_id: 'fifty-thousand', usage: { chunks: count, tokens: count * 3 } });
  const health = (await (await fetch(`${server.url}/health`)).json()) as { supervisor: Record<string, number> };
  t.true(health.supervisor.peak_rss_bytes! <= BUDGET_MB * MB, `peak RSS ${Math.round(health.supervisor.peak_rss_bytes! / MB)} MB`);
  t.log(`peak RSS ${Math.round(health.supervisor.peak_rss_bytes! / MB)} MB of a ${BUDGET_MB} MB budget`);
});

test('/health reports the supervisor in the documented shape', async (t) => {
  const health = HealthResponse.parse(await (await fetch(`${server.url}/health`)).json());
  t.like(health.supervisor, { budget_bytes: BUDGET_MB * MB, budget_source: 'EMBEDDING_MAX_MEMORY_MB', max_batch_size: 256, max_concurrency: 2, sample_interval_ms: 100 });
  t.is(health.supervisor!.workers.length, 2);
});
