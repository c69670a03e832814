import test from 'ava';
import { ConfigError, parseConfig } from '../src/config.js';
import { failureAction, fetchCount, heartbeatMs, type FetchState } from '../src/queue/decisions.js';
import { failureBody, resultBody } from '../src/queue/messages.js';
import { toBatches } from '../src/queue/client.js';
import { DEFAULT_NAMES, eventsSubject, isJobId, jobFromSubject, jobSubject, messageId, parseEncoding, parseMessageId, resultsSubject } from '../src/queue/subjects.js';

/** The queue's pure parts (issue 13), without a server: fetch sizing, failure handling, subjects, ids, message shapes. */

const idle: FetchState = { connected: true, stopping: false, paused: false, refusing: false, concurrency: 2, held: 0 };

test('a worker fetches its free batch slots, one job each, and nothing while paused, refusing, stopping or disconnected', (t) => {
  t.is(fetchCount(idle), 2);
  t.is(fetchCount({ ...idle, held: 1 }), 1);
  t.is(fetchCount({ ...idle, held: 2 }), 0);
  t.is(fetchCount({ ...idle, held: 3, concurrency: 1 }), 0, 'the supervisor lowered concurrency below what is held: nothing more');
  for (const off of [{ paused: true }, { refusing: true }, { stopping: true }, { connected: false }]) t.is(fetchCount({ ...idle, ...off }), 0, JSON.stringify(off));
});

test('a failed job is retried until its last delivery; a permanent failure fails at once', (t) => {
  t.is(failureAction('internal_error', 1, 5), 'retry');
  t.is(failureAction('overloaded', 4, 5), 'retry');
  t.is(failureAction('overloaded', 5, 5), 'fail');
  for (const code of ['validation_failed', 'invalid_json', 'invalid_job', 'too_many_chunks', 'insufficient_memory', 'result_too_large', 'max_deliveries']) {
    t.is(failureAction(code, 1, 5), 'fail', code);
  }
});

test('a running job beats its heartbeat three times per ack wait', (t) => {
  t.is(heartbeatMs(30_000), 10_000);
  t.is(heartbeatMs(1000), 333);
});

test('subjects, job ids and message ids', (t) => {
  t.is(jobSubject(DEFAULT_NAMES, 'repo-42'), 'embedding.batches.repo-42');
  t.is(resultsSubject(DEFAULT_NAMES, 'repo-42'), 'embedding.results.repo-42');
  t.is(eventsSubject(DEFAULT_NAMES, 'repo-42'), 'events.repo-42');
  t.is(jobFromSubject(DEFAULT_NAMES, 'embedding.batches.repo-42'), 'repo-42');
  t.is(jobFromSubject(DEFAULT_NAMES, 'embedding.batches.a.b'), undefined, 'one token only');
  t.is(jobFromSubject(DEFAULT_NAMES, 'other.repo-42'), undefined);
  t.is(messageId('repo-42', 'b0001'), 'repo-42/b0001');
  t.deepEqual(parseMessageId('repo-42/b/0001'), { job: 'repo-42', batchId: 'b/0001' }, 'the batch id may hold slashes');
  for (const bad of [undefined, '', 'no-slash', '/b1', 'a b/b1']) t.is(parseMessageId(bad), undefined, String(bad));
  t.true(isJobId('A_z-9'));
  for (const bad of ['', 'a.b', 'a*', 'a>', 'a b', 'x'.repeat(129)]) t.false(isJobId(bad), bad);
});

test('the encoding header: float by default, base64 on request, anything else an error', (t) => {
  t.is(parseEncoding(undefined), 'float');
  t.is(parseEncoding(' Base64 '), 'base64');
  t.is(parseEncoding('float'), 'float');
  t.deepEqual(parseEncoding('hex'), { error: 'Embedding-Encoding must be float or base64, not "hex"' });
});

test("a result is /embed's response, with base64 vectors on request; a failure is /embed's error shape with the batch id", (t) => {
  const rows = { offset: 0, count: 1, dims: 2, vectors: new Float32Array([0.5, -0.25]), tokens: new Uint16Array([3]), truncated: new Uint8Array([0]) };
  const request = { batch_id: 'b1', chunks: [{ chunk_id: 'c"1', content: 'x' }] };
  t.deepEqual(JSON.parse(resultBody(request, rows as never, 'float', 'm', 1.5)), {
    batch_id: 'b1',
    vectors: [{ chunk_id: 'c"1', vector: [0.5, -0.25], tokens: 3, truncated: false }],
    model: 'm',
    dimensions: 2,
    usage: { chunks: 1, tokens: 3, cached_chunks: 0 },
    timing_ms: 1.5,
  });
  const b64 = JSON.parse(resultBody(request, rows as never, 'base64', 'm', 1)).vectors[0].vector as string;
  t.deepEqual(Array.from(new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer)), [0.5, -0.25]);
  t.deepEqual(JSON.parse(failureBody('b2', 'invalid_json', 'the job is not JSON')), { batch_id: 'b2', error: { code: 'invalid_json', message: 'the job is not JSON' } });
});

test('batches for the producer: fixed size, zero-padded ids; a repeated chunk id is refused', (t) => {
  const chunks = Array.from({ length: 17 }, (_, i) => ({ chunk_id: `c${i}`, content: 'x' }));
  const batches = toBatches(chunks, 8);
  t.deepEqual(
    batches.map((b) => [b.batch_id, b.chunks.length]),
    [
      ['b000001', 8],
      ['b000002', 8],
      ['b000003', 1],
    ],
  );
  t.throws(() => toBatches([chunks[0]!, chunks[0]!], 8), { message: /appears twice/ });
});

test('EMBEDDING_NATS_URL switches worker mode on, with the documented defaults; bad names are refused', (t) => {
  t.is(parseConfig({}).nats, undefined);
  t.deepEqual(parseConfig({ EMBEDDING_NATS_URL: 'nats://a:4222, nats://b:4222' }).nats, {
    servers: ['nats://a:4222', 'nats://b:4222'],
    ...DEFAULT_NAMES,
    ackWaitMs: 30_000,
    maxDeliver: 5,
    nakDelayMs: 5000,
  });
  t.throws(() => parseConfig({ EMBEDDING_NATS_URL: 'http://a' }), { instanceOf: ConfigError, message: /EMBEDDING_NATS_URL/ });
  t.throws(() => parseConfig({ EMBEDDING_NATS_URL: 'nats://a', EMBEDDING_NATS_SUBJECT: 'jobs.>' }), { instanceOf: ConfigError, message: /EMBEDDING_NATS_SUBJECT/ });
  t.throws(() => parseConfig({ EMBEDDING_NATS_URL: 'nats://a', EMBEDDING_NATS_STREAM: 'a.b' }), { instanceOf: ConfigError, message: /EMBEDDING_NATS_STREAM/ });
});
