/**
 * /embed with a request body streamed as NDJSON, the real model over real HTTP: sent slowly in pieces, read slowly,
 * broken mid-stream, abandoned mid-stream; and the slow-drip JSON body still cut off with 408 now that the body timer
 * is the service's own (router/http-server.ts, BodyClock).
 */
import net from 'node:net';
import test from 'ava';
import { metricValue, waitFor } from '../../harness/probe.js';
import { ndjsonLines, postNdjsonBody, responseLines, type ChunkLine } from '../../harness/ndjson.js';
import { cosine, postJson, startServer, type RunningServer } from '../../harness/server.js';

// Long enough that a busy test machine does not stall the sending client past it.
const TIMEOUT_MS = 5000;
let server: RunningServer;

test.before(async () => {
  server = await startServer({ EMBEDDING_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), EMBEDDING_MAX_MEMORY_MB: '1536' });
  await server.waitReady();
});
test.after.always(async () => {
  await server?.stop();
});

const WORDS = ['parse', 'token', 'return', 'window', 'socket', 'buffer', 'vector', 'stream', 'error', 'index'];
const chunksOf = (n: number, prefix: string): ChunkLine[] =>
  Array.from({ length: n }, (_, i) => ({ chunk_id: `${prefix}${i}`, content: `def ${WORDS[i % 10]}_${i}(x):\n    return ${WORDS[(i * 7) % 10]}(x, ${i})` }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The body's lines in pieces of `perPiece` lines, with a pause before each piece. */
async function* slowly(lines: Iterable<string>, perPiece: number, pauseMs: number): AsyncGenerator<string> {
  let piece: string[] = [];
  for (const line of lines) {
    piece.push(line);
    if (piece.length === perPiece) {
      await sleep(pauseMs);
      yield piece.join('');
      piece = [];
    }
  }
  if (piece.length > 0) yield piece.join('');
}

test.serial('a few thousand chunks sent slowly in pieces get one vector each, in order, the same as the JSON body gives', async (t) => {
  const chunks = chunksOf(3000, 'c');
  const json = await postJson(`${server.url}/embed`, { batch_id: 'json', chunks });
  t.is(json.status, 200);
  // Pieces of 37 lines (not a window's size), so lines and windows fall on different boundaries.
  const res = await postNdjsonBody(`${server.url}/embed`, slowly(ndjsonLines('streamed', chunks), 37, 5));
  t.is(res.status, 200);
  const got: any[] = [];
  for await (const line of responseLines(res)) got.push(JSON.parse(line));
  t.is(got.length, chunks.length + 1, JSON.stringify(got.at(-1)).slice(0, 300));
  let worst = 1;
  got.slice(0, -1).forEach((line, i) => {
    t.is(line.chunk_id, chunks[i]!.chunk_id);
    t.is(line.tokens, json.json.vectors[i].tokens);
    worst = Math.min(worst, cosine(line.vector, json.json.vectors[i].vector));
  });
  // Windows are cut as the body arrives, so batches differ from the JSON body's; the vectors agree to float rounding.
  t.true(worst > 0.99999, `lowest cosine against the JSON body's vectors: ${worst}`);
  t.like(got.at(-1), { batch_id: 'streamed', usage: { chunks: chunks.length, tokens: json.json.usage.tokens } });
  const completed = await waitFor(() => server.logs.find((l) => l.includes('"batch_id":"streamed"') && l.includes('embedding.batch_completed.v1')));
  t.regex(completed, /"chunk_count":3000/);
});

test.serial('a slow reader holds the stream back without a 408: the body waits in TCP while the client is not reading', async (t) => {
  const chunks = chunksOf(4000, 'r');
  const res = await postNdjsonBody(`${server.url}/embed`, ndjsonLines('slow-reader', chunks));
  t.is(res.status, 200);
  let index = 0;
  let summary: any;
  for await (const line of responseLines(res)) {
    // Twice the request timeout spent not reading, early in the stream.
    if (index === 10) await sleep(2 * TIMEOUT_MS);
    const parsed = JSON.parse(line);
    if (index < chunks.length) t.is(parsed.chunk_id, chunks[index]!.chunk_id);
    else summary = parsed;
    index++;
  }
  t.is(index, chunks.length + 1);
  t.like(summary, { batch_id: 'slow-reader', usage: { chunks: chunks.length } });
});

test.serial('a bad line after the answer has started: every chunk before it answered, then an error line, no summary', async (t) => {
  const chunks = chunksOf(600, 'b');
  let answered!: () => void;
  const started = new Promise<void>((resolve) => (answered = resolve));
  const body = (async function* () {
    yield* ndjsonLines('bad-line', chunks);
    await started; // the first vectors are out before the bad line is sent
    yield '{"chunk_id":"oops","content":["not","text"]}\n';
    yield* [...ndjsonLines('bad-line', chunksOf(10, 'never'))].slice(1);
  })();
  const res = await postNdjsonBody(`${server.url}/embed`, body);
  t.is(res.status, 200);
  const got: any[] = [];
  for await (const line of responseLines(res)) {
    got.push(JSON.parse(line));
    answered();
  }
  t.deepEqual(got.slice(0, -1).map((l) => l.chunk_id), chunks.map((c) => c.chunk_id));
  t.is(got.at(-1).error.code, 'validation_failed');
  t.regex(got.at(-1).error.message, /^line 602: chunks\[600\]\.content: /);
  const next = await postJson(`${server.url}/embed`, { batch_id: 'after', chunks: chunksOf(3, 'a') });
  t.is(next.status, 200);
});

test.serial('a client that goes away mid-stream: its queued batches are withdrawn, nothing is left behind, the next request is served', async (t) => {
  const metric = (name: string) => metricValue(server.url, name);
  const controller = new AbortController();
  const body = (async function* () {
    yield* ndjsonLines('gone', chunksOf(2000, 'g'));
    // Never finishes: the client hangs up first.
    await new Promise((resolve) => controller.signal.addEventListener('abort', resolve));
  })();
  const res = await postNdjsonBody(`${server.url}/embed`, body, { signal: controller.signal });
  let read = 0;
  await t.throwsAsync(async () => {
    for await (const _line of responseLines(res)) if (++read === 100) controller.abort();
  }, { any: true });
  // Withdrawn or finished, the request's batches leave the queue and the pool.
  await waitFor(async () => ((await metric('embedding_queue_chunks')) === 0 && (await metric('embedding_inflight_batches')) === 0 ? true : undefined), 50);
  const failed = await waitFor(() => server.logs.find((l) => l.includes('"batch_id":"gone"') && l.includes('embedding.batch_failed.v1')));
  t.regex(failed, /"error_code":"client_disconnected"/);
  const next = await postJson(`${server.url}/embed`, { batch_id: 'after', chunks: chunksOf(3, 'a') });
  t.is(next.status, 200);
});

test.serial('a slow-drip JSON body is still cut off with 408 JSON after the request timeout', async (t) => {
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1', () => {
      socket.write(`POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"batch_id":`);
      const drip = setInterval(() => (socket.writable ? socket.write(' ') : clearInterval(drip)), 200);
      socket.on('close', () => clearInterval(drip));
    });
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(received) : reject(e)));
  });
  t.regex(raw, /^HTTP\/1\.1 408 /);
  t.is(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code, 'request_timeout');
});
