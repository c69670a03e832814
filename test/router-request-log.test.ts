import test from 'ava';
import { BatchFailedError } from '../src/core/batch-runner.js';
import { useApp } from '../harness/app.js';
import { jsonLines, waitFor } from '../harness/probe.js';

/** Request ids, the one access-log line per request (router/request-log.ts) and /embed's batch events (core/batch-events.ts), in process. */
const KEY = 'log-test-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
const app = useApp(test, { EMBEDDING_API_KEY: KEY });

const embed = (body: unknown, headers: Record<string, string>) => app.post('/embed', body, { ...AUTH, ...headers });
const GOOD = { batch_id: 'ok', chunks: [{ chunk_id: 'c', content: 'still serving' }] };
/** The request's access-log line (the one with `req`); /embed's batch events carry the request id too. */
const lineOf = (id: string) => waitFor(() => jsonLines(app.logs).find((l) => l.request_id === id && l.req));

test('request ids: an incoming X-Request-Id is echoed, otherwise one is generated; one log line per request', async (t) => {
  const mine = await embed(GOOD, { 'x-request-id': 'trace-abc.123' });
  t.is(mine.headers.get('x-request-id'), 'trace-abc.123');
  const generated = await embed(GOOD, {});
  t.regex(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  // An id that is not plain text is replaced rather than echoed.
  const weird = await embed(GOOD, { 'x-request-id': 'x'.repeat(500) });
  t.not(weird.headers.get('x-request-id'), 'x'.repeat(500));

  const line = await lineOf('trace-abc.123');
  t.like(line, { level: 30, request_id: 'trace-abc.123', req: { method: 'POST', url: '/embed' }, res: { status: 200 }, chunks: 1 });
  t.true(line.tokens >= 3);
  t.is(typeof line.duration_ms, 'number');
  const lines = jsonLines(app.logs).filter((l) => l.request_id === 'trace-abc.123');
  t.is(lines.filter((l) => l.req).length, 1);
  // Besides it, exactly the original worker's two events for the request, in order, naming its batch_id.
  t.deepEqual(
    lines.filter((l) => l.event).map((l) => [l.event.type, l.event.payload.batch_id, l.event.payload.chunk_count]),
    [
      ['embedding.batch_started.v1', 'ok', 1],
      ['embedding.batch_completed.v1', 'ok', 1],
    ],
  );
  t.is(lines.length, 3);
  t.false(app.logs.join('\n').includes(KEY), 'the API key never reaches the log');

  const failed = await embed({ batch_id: 'x' }, { 'x-request-id': 'bad-one' });
  t.is(failed.status, 422);
  t.like(await lineOf('bad-one'), { level: 40, res: { status: 422 }, error_code: 'validation_failed' });
  // A request refused by validation never started a batch, as in the original: no events.
  t.false(jsonLines(app.logs).some((l) => l.request_id === 'bad-one' && l.event));
});

test.serial('a batch that fails after validation ends with embedding.batch_failed.v1 and its error code', async (t) => {
  app.embedder.failNext(new BatchFailedError(0, 1, { cause: new Error('worker died') }));
  const res = await embed({ batch_id: 'doomed', chunks: [{ chunk_id: 'a', content: 'x' }, { chunk_id: 'b', content: 'y' }] }, { 'x-request-id': 'doomed-1' });
  t.is(res.status, 500);
  await lineOf('doomed-1');
  const events = jsonLines(app.logs)
    .filter((l) => l.request_id === 'doomed-1' && l.event)
    .map((l) => l.event);
  t.deepEqual(
    events.map((e) => e.type),
    ['embedding.batch_started.v1', 'embedding.batch_failed.v1'],
  );
  t.like(events[1].payload, { batch_id: 'doomed', chunk_count: 2, error_code: 'batch_failed' });
  t.is(typeof events[1].payload.duration_ms, 'number');
});
