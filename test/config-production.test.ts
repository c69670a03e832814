import test from 'ava';
import { ConfigError, parseConfig } from '../src/config.js';
import { runServerToExit } from '../harness/server.js';

/** The production interface's settings (issue 6): defaults as in the README, and bad values refused by name. */

test('production defaults match the README', (t) => {
  const config = parseConfig({}, 2);
  t.like(config, {
    maxChunkChars: 100_000,
    maxChunksPerRequest: 50_000,
    maxQueuedChunks: 100_000,
    shutdownTimeoutMs: 8_000,
    shutdownDelayMs: 0,
    apiKey: undefined,
  });
  t.deepEqual(config.corsOrigins, []);
});

test('values are read and parsed', (t) => {
  const config = parseConfig(
    {
      EMBEDDING_MAX_CHUNK_CHARS: '2000',
      EMBEDDING_MAX_CHUNKS_PER_REQUEST: '100',
      EMBEDDING_MAX_QUEUED_CHUNKS: '1000',
      EMBEDDING_SHUTDOWN_TIMEOUT_MS: '30000',
      EMBEDDING_SHUTDOWN_DELAY_MS: '5000',
      EMBEDDING_API_KEY: 's3cr3t-KEY_123',
      EMBEDDING_CORS_ORIGIN: 'https://a.example.com, http://localhost:3000',
    },
    2,
  );
  t.like(config, { maxChunkChars: 2000, maxChunksPerRequest: 100, maxQueuedChunks: 1000, shutdownTimeoutMs: 30_000, shutdownDelayMs: 5000, apiKey: 's3cr3t-KEY_123' });
  t.deepEqual(config.corsOrigins, ['https://a.example.com', 'http://localhost:3000']);
  t.deepEqual(parseConfig({ EMBEDDING_CORS_ORIGIN: '*' }, 2).corsOrigins, ['*']);
  // Empty means unset, as for every variable.
  t.is(parseConfig({ EMBEDDING_API_KEY: '' }, 2).apiKey, undefined);
});

const bad: Array<[string, Record<string, string>, RegExp]> = [
  ['a non-numeric chunk limit', { EMBEDDING_MAX_CHUNK_CHARS: 'big' }, /EMBEDDING_MAX_CHUNK_CHARS="big": must be an integer/],
  ['a zero chunk count', { EMBEDDING_MAX_CHUNKS_PER_REQUEST: '0' }, /EMBEDDING_MAX_CHUNKS_PER_REQUEST="0": must be at least 1/],
  ['a negative queue', { EMBEDDING_MAX_QUEUED_CHUNKS: '-5' }, /EMBEDDING_MAX_QUEUED_CHUNKS="-5"/],
  ['a fractional timeout', { EMBEDDING_SHUTDOWN_TIMEOUT_MS: '1.5' }, /EMBEDDING_SHUTDOWN_TIMEOUT_MS="1.5"/],
  ['a key with a space (not echoed)', { EMBEDDING_API_KEY: 'two words' }, /EMBEDDING_API_KEY=\(hidden\): must be printable ASCII without spaces/],
  ['an origin with a path', { EMBEDDING_CORS_ORIGIN: 'https://a.example.com/app' }, /EMBEDDING_CORS_ORIGIN=.*origins like/],
  ['a bare host as origin', { EMBEDDING_CORS_ORIGIN: 'example.com' }, /EMBEDDING_CORS_ORIGIN/],
  [
    'a request limit above the queue limit',
    { EMBEDDING_MAX_CHUNKS_PER_REQUEST: '500', EMBEDDING_MAX_QUEUED_CHUNKS: '100' },
    /EMBEDDING_MAX_CHUNKS_PER_REQUEST \(500\) must not exceed EMBEDDING_MAX_QUEUED_CHUNKS \(100\)/,
  ],
];
for (const [name, env, message] of bad) {
  test(`refused: ${name}`, (t) => {
    const error = t.throws(() => parseConfig(env, 2), { instanceOf: ConfigError });
    t.regex(error!.message, message);
  });
}

test('the API key never appears in the start-up error for another variable', async (t) => {
  const { code, stderr } = await runServerToExit({ EMBEDDING_API_KEY: 'do-not-print-me', EMBEDDING_MAX_QUEUED_CHUNKS: 'x' });
  t.is(code, 1);
  t.regex(stderr, /EMBEDDING_MAX_QUEUED_CHUNKS/);
  t.false(stderr.includes('do-not-print-me'));
});
