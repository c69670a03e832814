/**
 * Hostile input against the real HTTP stack (app and HTTP server, stub embedder, in process):
 * generated and hand-made bodies that no client should send. Every case must get a well-formed JSON
 * answer with a 2xx or 4xx status, the service must stay up, and memory must come back near where it
 * started: here the test process's heap after a full collection, as it holds the whole HTTP stack.
 */
import net from 'node:net';
import test from 'ava';
import fc from 'fast-check';
import { useApp } from '../harness/app.js';
import { rssBytes, settledHeapBytes } from '../harness/rss.js';

const app = useApp(test, { EMBEDDING_REQUEST_TIMEOUT_MS: '2000' });

interface Answer {
  status: number;
  contentType: string;
  body: any;
}

/** `contentType: null` sends no Content-Type header at all. */
async function send(body: string | Uint8Array, contentType: string | null = 'application/json', path = '/embed'): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (contentType !== null) headers['content-type'] = contentType;
  // A wedged request must fail the test with its body in view, not hang it.
  const res = await fetch(`${app.url}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(120_000) }).catch((error: unknown) => {
    throw new Error(`no answer (${String(error)}) to ${typeof body === 'string' ? body.slice(0, 300) : `${body.length} bytes`}`);
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`status ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: parsed };
}

/** What every answer must look like, whatever was sent. */
function wellFormed(answer: Answer, chunksSent?: unknown): string | undefined {
  if (!answer.contentType.startsWith('application/json')) return `content-type ${answer.contentType}`;
  if (answer.status >= 500) return `status ${answer.status}: ${JSON.stringify(answer.body)}`;
  if (answer.status >= 400) {
    const error = answer.body?.error;
    if (typeof error?.code !== 'string' || typeof error?.message !== 'string') return `error shape ${JSON.stringify(answer.body)}`;
    if (/\n\s+at /.test(error.message)) return 'stack trace in message';
    return undefined;
  }
  if (answer.status !== 200) return `status ${answer.status}`;
  const vectors = answer.body?.vectors;
  if (!Array.isArray(vectors)) return 'no vectors';
  if (Array.isArray(chunksSent) && vectors.length !== chunksSent.length) return `${vectors.length} results for ${chunksSent.length} chunks`;
  for (const e of vectors) if (!Array.isArray(e.vector) || e.vector.length !== 384) return 'bad vector';
  return undefined;
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constant(''));
const chunk = fc.oneof(
  { weight: 4, arbitrary: fc.record({ chunk_id: fc.string({ minLength: 1, maxLength: 8 }), content: text }) },
  { weight: 1, arbitrary: fc.record({ chunk_id: anyJson, content: anyJson }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: anyJson },
);
const embedBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ batch_id: fc.oneof(fc.string({ maxLength: 8 }), anyJson), chunks: fc.oneof(fc.array(chunk, { maxLength: 6 }), anyJson) }, { requiredKeys: [] }),
  },
  { weight: 1, arbitrary: anyJson },
);

test.serial('generated /embed bodies: random JSON at every field always gets a well-formed 2xx/4xx JSON answer', async (t) => {
  await fc.assert(
    fc.asyncProperty(embedBody, async (body) => {
      const answer = await send(JSON.stringify(body));
      const problem = wellFormed(answer, (body as { chunks?: unknown } | null)?.chunks);
      if (problem) throw new Error(problem);
    }),
    { numRuns: Number(process.env.HOSTILE_RUNS ?? 2500) },
  );
  t.pass();
});

test.serial('generated raw bytes and strings as bodies always get a well-formed 2xx/4xx JSON answer', async (t) => {
  const contentTypes = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null);
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })), contentTypes, async (body, contentType) => {
      const answer = await send(body, contentType);
      const problem = wellFormed(answer);
      if (problem) throw new Error(problem);
    }),
    { numRuns: Number(process.env.HOSTILE_RUNS ?? 1500) },
  );
  t.pass();
});

const valid = (chunks: Array<{ chunk_id: string; content: string }>) => JSON.stringify({ batch_id: 'hostile', chunks });

const handMade: Array<{ name: string; body: () => string | Uint8Array; contentType: string | null }> = [
  { name: 'deeply nested arrays', body: () => `{"batch_id":"x","chunks":${'['.repeat(200_000)}${']'.repeat(200_000)}}`, contentType: 'application/json' },
  { name: 'deeply nested objects', body: () => `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`, contentType: 'application/json' },
  { name: 'a 5 MB content string', body: () => valid([{ chunk_id: 'big', content: 'word '.repeat(1_000_000) }]), contentType: 'application/json' },
  { name: 'a 5 MB chunk_id', body: () => valid([{ chunk_id: 'i'.repeat(5_000_000), content: 'x' }]), contentType: 'application/json' },
  { name: 'lone surrogates', body: () => '{"batch_id":"\\ud800","chunks":[{"chunk_id":"\\udfff","content":"a\\ud800b\\udc00c\\ud83d"}]}', contentType: 'application/json' },
  { name: 'invalid UTF-8 bytes inside strings', body: () => Buffer.concat([Buffer.from('{"batch_id":"x","chunks":[{"chunk_id":"a","content":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x28, 0x8c, 0xbc]), Buffer.from('"}]}')]), contentType: 'application/json' },
  { name: 'NUL and control characters', body: () => valid([{ chunk_id: '\u0000', content: Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f\u0085\u2028\u2029' }]), contentType: 'application/json' },
  { name: '__proto__ and constructor keys', body: () => '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"batch_id":"x","chunks":[{"chunk_id":"constructor","content":"a","__proto__":{"content":1}},{"chunk_id":"__proto__","content":"b"}]}', contentType: 'application/json' },
  { name: 'chunks as an object with a length', body: () => '{"batch_id":"x","chunks":{"length":100000000,"0":{"chunk_id":"a","content":"b"}}}', contentType: 'application/json' },
  { name: '100,000 tiny chunks', body: () => valid(Array.from({ length: 100_000 }, (_, i) => ({ chunk_id: String(i), content: i % 7 === 0 ? '' : 'x' }))), contentType: 'application/json' },
  { name: 'an empty body', body: () => '', contentType: 'application/json' },
  { name: 'JSON with a BOM', body: () => `\ufeff${valid([{ chunk_id: 'a', content: 'b' }])}`, contentType: 'application/json' },
  { name: 'numbers too large to represent', body: () => '{"batch_id":1e999999,"chunks":[{"chunk_id":"a","content":"b"}]}', contentType: 'application/json' },
  { name: 'no content-type', body: () => valid([{ chunk_id: 'a', content: 'b' }]), contentType: null },
];

for (const { name, body, contentType } of handMade) {
  test.serial(`hand-made: ${name} gets a well-formed 2xx/4xx JSON answer`, async (t) => {
    const answer = await send(body(), contentType);
    t.is(wellFormed(answer), undefined, JSON.stringify(answer.body).slice(0, 300));
    t.log(`${name}: ${answer.status} ${answer.status >= 400 ? answer.body.error.code : ''}`);
  });
}

/** Writes raw bytes on a socket and collects whatever comes back until the server closes it. */
function rawExchange(write: (socket: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(app.port, app.host, () => write(socket));
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(received) : reject(e)));
  });
}

function jsonBodyOf(raw: string): { status: number; body: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
  return { status, body: JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) };
}

test.serial('a slow-drip body is cut off with 408 JSON once the request timeout passes', async (t) => {
  const raw = await rawExchange((socket) => {
    socket.write(`POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"batch_id":`);
    const drip = setInterval(() => (socket.writable ? socket.write(' ') : clearInterval(drip)), 200);
    socket.on('close', () => clearInterval(drip));
  });
  const { status, body } = jsonBodyOf(raw);
  t.is(status, 408);
  t.is(body.error.code, 'request_timeout');
  // Documented for both POST routes, as the error shape every other 4xx uses.
  const doc = (await (await fetch(`${app.url}/openapi.json`)).json()) as any;
  for (const path of ['/embed', '/v1/embeddings']) t.regex(doc.paths[path].post.responses['408'].description, /request_timeout/);
  t.deepEqual(Object.keys(body.error).sort(), ['code', 'message']);
});

test.serial('headers over the size limit get a 431 JSON answer', async (t) => {
  const raw = await rawExchange((socket) => socket.write(`POST /embed HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`));
  const { status, body } = jsonBodyOf(raw);
  t.is(status, 431);
  t.is(body.error.code, 'headers_too_large');
});

test.serial('malformed HTTP gets a 400 JSON answer', async (t) => {
  const raw = await rawExchange((socket) => socket.write('THIS IS NOT HTTP\r\n\r\n'));
  const { status, body } = jsonBodyOf(raw);
  t.is(status, 400);
  t.is(body.error.code, 'bad_request');
});

test.serial('a truncated body (client hangs up mid-body) leaves the server serving', async (t) => {
  for (let i = 0; i < 20; i++) {
    await rawExchange((socket) => {
      socket.write(`POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"batch_id":"x","chunks":[{"chu`);
      setTimeout(() => socket.destroy(), 20);
    });
  }
  const answer = await send(valid([{ chunk_id: 'after', content: 'still serving' }]));
  t.is(answer.status, 200);
});

test.serial('after all of it the server still answers correctly and its memory is back near the baseline', async (t) => {
  const answer = await send(valid([{ chunk_id: 'last', content: 'the server is still up' }]));
  t.is(answer.status, 200);
  t.is(answer.body.vectors.length, 1);
  const health = await fetch(`${app.url}/health`);
  t.is(health.status, 200);
  // Measured after the largest inputs above, so the heap has already held them once; what remains
  // after a full collection must not grow with more of the same traffic.
  const before = settledHeapBytes();
  const rssBefore = rssBytes(process.pid);
  for (let round = 0; round < 3; round++) {
    for (const { name, body, contentType } of handMade) if (!name.startsWith('100,000')) await send(body(), contentType);
  }
  const after = settledHeapBytes();
  const MiB = (bytes: number) => Math.round(bytes / 2 ** 20);
  t.log(`heap and buffers after GC ${MiB(before)} MiB before three more rounds of hostile input, ${MiB(after)} MiB after (RSS ${MiB(rssBefore)} → ${MiB(rssBytes(process.pid))} MiB)`);
  t.true(after < before + 16 * 2 ** 20, `the heap grew from ${before} to ${after}`);
});
