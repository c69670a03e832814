import test from 'ava';
import { useApp } from '../harness/app.js';
import { jsonLines, waitFor } from '../harness/probe.js';

/** Request ids and the one access-log line per request (router/request-log.ts), in process. */
const KEY = 'log-test-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
const app = useApp(test, { EMBEDDING_API_KEY: KEY });

const embed = (body: unknown, headers: Record<string, string>) => app.post('/embed', body, { ...AUTH, ...headers });
const GOOD = { batch_id: 'ok', chunks: [{ chunk_id: 'c', content: 'still serving' }] };
const lineOf = (id: string) => waitFor(() => jsonLines(app.logs).find((l) => l.request_id === id));

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
  t.is(jsonLines(app.logs).filter((l) => l.request_id === 'trace-abc.123').length, 1);
  t.false(app.logs.join('\n').includes(KEY), 'the API key never reaches the log');

  const failed = await embed({ batch_id: 'x' }, { 'x-request-id': 'bad-one' });
  t.is(failed.status, 400);
  t.like(await lineOf('bad-one'), { level: 40, res: { status: 400 }, error_code: 'invalid_request' });
});
