/**
 * /embed with a body streamed as NDJSON (Content-Type: application/x-ndjson), against the real HTTP stack with the stub
 * embedder (harness/app.ts), and the line reader on its own: parsing, validation, limits, backpressure, the idle
 * timeout. The real model over real HTTP: test/e2e/ndjson-body.test.ts.
 */
import { once } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { useApp } from '../harness/app.js';
import { NDJSON, ndjsonLines, postNdjsonBody, responseLines, type ChunkLine } from '../harness/ndjson.js';
import { NdjsonChunkReader, ndjsonLineLimit, type BodyStream } from '../src/router/ndjson-body.js';

// Node times the headers with the same limit: long enough that a busy machine does not stall a request's headers past it.
const TIMEOUT_MS = 3000;
const app = useApp(test, { EMBEDDING_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), EMBEDDING_MAX_CHUNK_CHARS: '1000' });

const chunksOf = (n: number, prefix = 'c'): ChunkLine[] => Array.from({ length: n }, (_, i) => ({ chunk_id: `${prefix}${i}`, content: `text ${i} ${'word '.repeat(i % 13)}` }));

async function answer(res: Response): Promise<any[]> {
  const out: any[] = [];
  for await (const line of responseLines(res)) out.push(JSON.parse(line));
  return out;
}

test('an NDJSON body is answered line by line, as the same chunks in a JSON body with Accept: application/x-ndjson', async (t) => {
  const chunks = chunksOf(300);
  const streamed = await postNdjsonBody(`${app.url}/embed`, ndjsonLines('b', chunks));
  t.is(streamed.status, 200);
  t.is(streamed.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
  const got = await answer(streamed);
  const json = await fetch(`${app.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json', accept: NDJSON }, body: JSON.stringify({ batch_id: 'b', chunks }) });
  const expected = await answer(json);
  t.deepEqual(got.slice(0, -1), expected.slice(0, -1));
  t.like(got.at(-1), { batch_id: 'b', usage: expected.at(-1).usage, dimensions: 384 });
});

test('pieces that split lines, multi-byte characters, CRLF endings, blank lines and no final newline read the same', async (t) => {
  const chunks = [{ chunk_id: 'é', content: 'naïve café 🙂' }, { chunk_id: 'b', content: 'second' }];
  const body = [...ndjsonLines('x', chunks)].join('').replaceAll('\n', '\r\n\r\n').trimEnd();
  const bytes = Buffer.from(body);
  const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  // One byte at a time: every line and every character is split across pieces.
  const res = await postNdjsonBody(`${app.url}/embed`, (async function* () {
    for (const p of pieces) yield p;
  })(), { headers: { 'content-type': `${NDJSON}; charset=utf-8` } });
  const byByte = await answer(res);
  const whole = await answer(await postNdjsonBody(`${app.url}/embed`, [body]));
  t.deepEqual(whole.slice(0, -1).map((l) => l.chunk_id), ['é', 'b']);
  t.deepEqual(byByte.slice(0, -1), whole.slice(0, -1));
});

const bad: Array<[string, string, number, string, RegExp]> = [
  ['an empty body', '\n', 422, 'validation_failed', /body is empty/],
  ['a first line without batch_id', '{"chunk_id":"a","content":"b"}\n', 422, 'validation_failed', /line 1: batch_id/],
  ['a whole JSON body on one line', '{"batch_id":"a","chunks":[{"chunk_id":"a","content":"b"}]}\n', 422, 'validation_failed', /line 1: chunks: the first line carries batch_id only/],
  ['no chunk lines', '{"batch_id":"a"}\n', 422, 'validation_failed', /no chunk lines/],
  ['a first chunk that is not JSON', '{"batch_id":"a"}\n{"chunk_id":\n', 400, 'invalid_json', /line 2 is not valid JSON/],
  ['a first chunk without content', '{"batch_id":"a"}\n{"chunk_id":"x"}\n', 422, 'validation_failed', /line 2: chunks\[0\]\.content/],
  ['a chunk that is not an object', '{"batch_id":"a"}\n\n[1,2]\n', 422, 'validation_failed', /line 3: chunks\[0\]: /],
];
for (const [name, body, status, code, message] of bad) {
  test(`${name}: ${status} ${code} before anything is answered, naming the line`, async (t) => {
    const res = await postNdjsonBody(`${app.url}/embed`, [body]);
    t.is(res.status, status);
    const json = (await res.json()) as any;
    t.is(json.error.code, code);
    t.regex(json.error.message, message);
  });
}

test('a bad line after answered chunks: every chunk before it is answered, then an error line naming it, and no summary', async (t) => {
  const chunks = chunksOf(150);
  const lines = [...ndjsonLines('b', chunks)];
  lines.push('{"chunk_id":"bad","content":42}\n', ...[...ndjsonLines('b', chunksOf(5, 'after'))].slice(1));
  const res = await postNdjsonBody(`${app.url}/embed`, lines);
  t.is(res.status, 200);
  const got = await answer(res);
  t.deepEqual(got.slice(0, -1).map((l) => l.chunk_id), chunks.map((c) => c.chunk_id));
  t.is(got.at(-1).error.code, 'validation_failed');
  t.regex(got.at(-1).error.message, /^line 152: chunks\[150\]\.content: /);
});

test('a line past the line limit is 413, and content past EMBEDDING_MAX_CHUNK_CHARS is cut and reported truncated', async (t) => {
  const limit = ndjsonLineLimit(1000, app.config.maxBodyBytes);
  const long = await postNdjsonBody(`${app.url}/embed`, [`{"batch_id":"a"}\n{"chunk_id":"x","content":"${'a'.repeat(limit)}"}\n`]);
  t.is(long.status, 413);
  t.regex(((await long.json()) as any).error.message, new RegExp(`line 2 is longer than ${limit} bytes`));
  const cut = await answer(await postNdjsonBody(`${app.url}/embed`, ndjsonLines('a', [{ chunk_id: 'x', content: 'a'.repeat(5000) }])));
  t.true(cut[0].truncated);
});

test('other encodings and charsets are refused, as for JSON bodies', async (t) => {
  const gz = await postNdjsonBody(`${app.url}/embed`, ['{"batch_id":"a"}\n'], { headers: { 'content-encoding': 'gzip' } });
  t.is(gz.status, 415);
  t.is(((await gz.json()) as any).error.code, 'unsupported_encoding');
  const latin = await postNdjsonBody(`${app.url}/embed`, ['{"batch_id":"a"}\n'], { headers: { 'content-type': `${NDJSON}; charset=latin1` } });
  t.is(latin.status, 415);
  t.is(((await latin.json()) as any).error.code, 'unsupported_charset');
});

test.serial('a streamed body that stops arriving gets 408 once the request timeout passes with nothing received', async (t) => {
  const done = new AbortController();
  const res = await postNdjsonBody(`${app.url}/embed`, (async function* () {
    yield '{"batch_id":"a"}\n{"chunk_id":"x",';
    await new Promise((resolve) => done.signal.addEventListener('abort', resolve));
  })(), { signal: done.signal });
  t.is(res.status, 408);
  t.is(((await res.json()) as any).error.code, 'request_timeout');
  done.abort();
});

test.serial('a streamed body held back by backpressure longer than the request timeout is not cut off', async (t) => {
  const release = app.embedder.hold();
  const chunks = chunksOf(5_000).map((c) => ({ ...c, content: c.content + 'x'.repeat(900) }));
  const res = postNdjsonBody(`${app.url}/embed`, ndjsonLines('held', chunks));
  // Twice the timeout while nothing is embedded: the body waits in the socket, not in the server.
  await new Promise((resolve) => setTimeout(resolve, 2 * TIMEOUT_MS));
  release();
  const got = await answer(await res);
  t.is(got.length, chunks.length + 1, JSON.stringify(got.at(-1)).slice(0, 300));
  t.like(got.at(-1), { batch_id: 'held', usage: { chunks: chunks.length } });
});

/** A request body in a test: a stream whose `complete` says whether its last byte arrived. */
function bodyStream(): PassThrough & { complete: boolean } {
  const stream = new PassThrough() as PassThrough & { complete: boolean };
  stream.complete = false;
  stream.on('end', () => (stream.complete = true));
  return stream;
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await tick();
};

test('the reader parses at most one window ahead of the pipeline, and reads on as windows are taken', async (t) => {
  const body = bodyStream();
  const reader = new NdjsonChunkReader(body as BodyStream, { maxLineBytes: 10_000, windowChunks: () => 10, windowBytes: 1 << 20 });
  // A writer that respects the stream's backpressure, as a socket does.
  let written = false;
  const writing = (async () => {
    for (const line of ndjsonLines('w', chunksOf(1000))) if (!body.write(line)) await once(body, 'drain');
    body.end();
    written = true;
  })();
  t.is((await reader.header()).batch_id, 'w');
  await settle();
  t.is(reader.received, 10, 'stops at a full window while nobody takes it');
  t.false(written, 'the rest of the body waits with the writer');
  const first = await reader.next(new Promise(() => undefined));
  t.is(first!.length, 10);
  await settle();
  t.is(reader.received, 20);
  let taken = 10;
  for (let w = await reader.next(Promise.resolve()); w !== undefined; w = await reader.next(Promise.resolve())) taken += w.length;
  t.is(taken, 1000);
  await writing;
  t.is(reader.chunkId(999), 'c999');
  reader.forget(1000);
});

test('the reader cuts a short window only when the pipeline is idle, and names a bad line after the chunks before it', async (t) => {
  const body = bodyStream();
  const reader = new NdjsonChunkReader(body as BodyStream, { maxLineBytes: 10_000, windowChunks: () => 100, windowBytes: 1 << 20 });
  body.write('{"batch_id":"w"}\n{"chunk_id":"a","content":"1"}\n{"chunk_id":"b","content":"2"}\n');
  let idle!: () => void;
  const window = reader.next(new Promise<void>((resolve) => (idle = resolve)));
  let done = false;
  void window.then(() => (done = true));
  await settle();
  t.false(done, 'waits for more while the pipeline is busy');
  idle();
  t.deepEqual(await window, ['1', '2']);
  body.write('{"chunk_id":"c","content":"3"}\nnot json\n');
  t.deepEqual(await reader.next(Promise.resolve()), ['3']);
  const error = await t.throwsAsync(reader.next(Promise.resolve()));
  t.regex(error!.message, /^line 5 is not valid JSON/);
  reader.close();
});
