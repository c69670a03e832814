import test from 'ava';
import { ErrorResponse, OpenAIErrorResponse } from '../src/router/schemas.js';
import { startApp, useApp } from '../harness/app.js';

/** The API key (router/auth.ts), security headers and CORS, in process. */
const KEY = 'test-key-0123456789abcdef';
const AUTH = { authorization: `Bearer ${KEY}` };
const ORIGIN = 'https://app.example.com';
const app = useApp(test, { EMBEDDING_API_KEY: KEY, EMBEDDING_CORS_ORIGIN: `${ORIGIN}, https://other.example.com` });

const GOOD = { batch_id: 'ok', chunks: [{ chunk_id: 'c', content: 'still serving' }] };
const embed = (headers: Record<string, string>) => app.post('/embed', GOOD, headers);

test('without the key, protected routes answer 401 JSON; /health, /ready and /metrics stay open', async (t) => {
  const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-key' }, { authorization: `Basic ${KEY}` }, { authorization: `Bearer ${KEY}x` }];
  for (const headers of attempts) {
    const res = await embed(headers);
    t.is(res.status, 401, JSON.stringify(headers));
    t.is(res.headers.get('www-authenticate'), 'Bearer');
    t.regex(ErrorResponse.parse(res.json).error.code, /^(missing|invalid)_api_key$/);
  }
  const openAi = await app.post('/v1/embeddings', { model: 'm', input: 'x' }, { authorization: 'Bearer nope' });
  t.is(openAi.status, 401);
  t.like(OpenAIErrorResponse.parse(openAi.json).error, { code: 'invalid_api_key', type: 'invalid_request_error' });
  t.is((await fetch(`${app.url}/openapi.json`)).status, 401);
  t.is((await fetch(`${app.url}/nope`)).status, 401, 'unknown routes too: nothing is revealed without the key');

  for (const path of ['/health', '/ready', '/metrics']) t.is((await fetch(`${app.url}${path}`)).status, 200, path);
  t.is((await embed(AUTH)).status, 200);
  t.is((await fetch(`${app.url}/openapi.json`, { headers: AUTH })).status, 200);
  t.is((await fetch(`${app.url}/nope`, { headers: AUTH })).status, 404);
});

test('security headers are set (helmet) and X-Powered-By is not', async (t) => {
  const res = await fetch(`${app.url}/health`);
  t.is(res.headers.get('x-content-type-options'), 'nosniff');
  t.is(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  t.truthy(res.headers.get('content-security-policy'));
  t.is(res.headers.get('x-powered-by'), null);
});

test('CORS, when configured, allows the listed origins only (preflight needs no key)', async (t) => {
  const preflight = await fetch(`${app.url}/v1/embeddings`, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  t.is(preflight.status, 204);
  t.is(preflight.headers.get('access-control-allow-origin'), ORIGIN);
  t.regex(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
  const actual = await embed({ ...AUTH, origin: ORIGIN });
  t.is(actual.headers.get('access-control-allow-origin'), ORIGIN);
  t.is(actual.headers.get('cross-origin-resource-policy'), 'cross-origin');
  const stranger = await embed({ ...AUTH, origin: 'https://evil.example.com' });
  t.is(stranger.headers.get('access-control-allow-origin'), null);
});

test('CORS is off unless configured: no Access-Control-Allow-Origin', async (t) => {
  const plain = await startApp();
  try {
    const res = await fetch(`${plain.url}/v1/embeddings`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    });
    t.is(res.headers.get('access-control-allow-origin'), null);
  } finally {
    await plain.close();
  }
});
