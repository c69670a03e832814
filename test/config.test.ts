import test from 'ava';
import { ConfigError, deriveThreadLayout, parseConfig } from '../src/config.js';

test('parseConfig({}) gives the defaults the README table shows (generated from the same VARIABLES)', (t) => {
  const config = parseConfig({}, 2);
  t.like(config, {
    host: '0.0.0.0',
    port: 8000,
    modelVariant: 'fp32',
    minBatchSize: 8,
    maxBatchSize: 64,
    workers: 2,
    threadsPerWorker: 1,
    modelDir: undefined,
  });
  // 20,000 chunks of 2 KB, with JSON framing, fit under the default body limit.
  t.true(config.maxBodyBytes >= 20_000 * (2048 + 64));
});

test('the default thread layout never oversubscribes the cores', (t) => {
  for (const cores of [1, 2, 3, 4, 8, 16, 64]) {
    const { workers, threadsPerWorker } = deriveThreadLayout(cores, undefined, undefined);
    t.true(workers * threadsPerWorker <= cores, `cores=${cores}`);
    const withThreads = deriveThreadLayout(cores, undefined, 2);
    t.true(withThreads.workers * withThreads.threadsPerWorker <= Math.max(cores, 2), `cores=${cores}, 2 threads`);
    const withWorkers = deriveThreadLayout(cores, 2, undefined);
    t.true(withWorkers.workers * withWorkers.threadsPerWorker <= Math.max(cores, 2), `cores=${cores}, 2 workers`);
  }
});

test('EMBEDDING_ONNX_THREADS is capped at 8, as in the original', (t) => {
  t.is(parseConfig({ EMBEDDING_ONNX_THREADS: '32' }, 64).threadsPerWorker, 8);
  t.is(parseConfig({ EMBEDDING_ONNX_THREADS: '32', EMBEDDING_WORKERS: '1' }, 64).workers, 1);
});

test('explicit values are honoured', (t) => {
  const config = parseConfig(
    {
      PORT: '9000',
      HOST: '127.0.0.1',
      EMBEDDING_WORKERS: '3',
      EMBEDDING_ONNX_THREADS: '2',
      EMBEDDING_MIN_BATCH_SIZE: '4',
      EMBEDDING_MAX_BATCH_SIZE: '32',
      EMBEDDING_MODEL_VARIANT: 'int8',
      EMBEDDING_MAX_BODY_BYTES: '1048576',
    },
    2,
  );
  t.like(config, { port: 9000, host: '127.0.0.1', workers: 3, threadsPerWorker: 2, minBatchSize: 4, maxBatchSize: 32, modelVariant: 'int8', maxBodyBytes: 1048576 });
});

const bad: Array<[Record<string, string>, RegExp]> = [
  [{ PORT: 'eighty' }, /PORT="eighty": must be an integer/],
  [{ PORT: '70000' }, /PORT="70000": must be at most 65535/],
  [{ EMBEDDING_MAX_BATCH_SIZE: '0' }, /EMBEDDING_MAX_BATCH_SIZE="0": must be at least 1/],
  [{ EMBEDDING_MIN_BATCH_SIZE: '-3' }, /EMBEDDING_MIN_BATCH_SIZE="-3": must be an integer/],
  [{ EMBEDDING_MIN_BATCH_SIZE: '65' }, /EMBEDDING_MIN_BATCH_SIZE \(65\) must not exceed EMBEDDING_MAX_BATCH_SIZE \(64\)/],
  [{ EMBEDDING_WORKERS: '1.5' }, /EMBEDDING_WORKERS="1.5": must be an integer/],
  [{ EMBEDDING_ONNX_THREADS: '0' }, /EMBEDDING_ONNX_THREADS="0": must be at least 1/],
  [{ EMBEDDING_MODEL_VARIANT: 'fp16' }, /EMBEDDING_MODEL_VARIANT="fp16"/],
  [{ EMBEDDING_MAX_BODY_BYTES: '10' }, /EMBEDDING_MAX_BODY_BYTES="10": must be at least 1024/],
  [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
];

for (const [env, message] of bad) {
  test(`rejects ${JSON.stringify(env)} with a clear message`, (t) => {
    const error = t.throws(() => parseConfig(env, 2), { instanceOf: ConfigError });
    t.regex(error!.message, message);
  });
}

test('empty values count as unset', (t) => {
  t.is(parseConfig({ PORT: '', EMBEDDING_MAX_BATCH_SIZE: '' }, 2).port, 8000);
});

// The production interface's settings (issue 6): defaults as in the README, and bad values refused by name.

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
  const limits = { EMBEDDING_MAX_CHUNK_CHARS: '2000', EMBEDDING_MAX_CHUNKS_PER_REQUEST: '100', EMBEDDING_MAX_QUEUED_CHUNKS: '1000' };
  const shutdown = { EMBEDDING_SHUTDOWN_TIMEOUT_MS: '30000', EMBEDDING_SHUTDOWN_DELAY_MS: '5000' };
  const access = { EMBEDDING_API_KEY: 's3cr3t-KEY_123', EMBEDDING_CORS_ORIGIN: 'https://a.example.com, http://localhost:3000' };
  const config = parseConfig({ ...limits, ...shutdown, ...access }, 2);
  t.like(config, { maxChunkChars: 2000, maxChunksPerRequest: 100, maxQueuedChunks: 1000, shutdownTimeoutMs: 30_000, shutdownDelayMs: 5000, apiKey: 's3cr3t-KEY_123' });
  t.deepEqual(config.corsOrigins, ['https://a.example.com', 'http://localhost:3000']);
  t.deepEqual(parseConfig({ EMBEDDING_CORS_ORIGIN: '*' }, 2).corsOrigins, ['*']);
  // Empty means unset, as for every variable.
  t.is(parseConfig({ EMBEDDING_API_KEY: '' }, 2).apiKey, undefined);
});

const badProduction: Array<[string, Record<string, string>, RegExp]> = [
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
for (const [name, env, message] of badProduction) {
  test(`refused: ${name}`, (t) => {
    const error = t.throws(() => parseConfig(env, 2), { instanceOf: ConfigError });
    t.regex(error!.message, message);
  });
}

// The memory supervisor's settings.

test('memory supervisor defaults', (t) => {
  t.like(parseConfig({}, 2), {
    maxMemoryPercent: 70,
    maxMemoryMb: undefined,
    adaptiveBatching: true,
    memorySampleMs: 500,
    maxPauseMs: 10_000,
    workerMaxTasks: 2000,
    workerMaxMb: 1024,
    cgroupRoot: undefined,
  });
});

test('memory supervisor settings are read and validated', (t) => {
  t.like(
    parseConfig(
      {
        EMBEDDING_MAX_MEMORY_PERCENT: '50',
        EMBEDDING_MAX_MEMORY_MB: '2048',
        EMBEDDING_ADAPTIVE_BATCHING: 'false',
        EMBEDDING_MEMORY_SAMPLE_MS: '100',
        EMBEDDING_MAX_PAUSE_MS: '0',
        EMBEDDING_WORKER_MAX_TASKS: '0',
        EMBEDDING_WORKER_MAX_MB: '0',
        EMBEDDING_CGROUP_ROOT: '/tmp/cg',
      },
      2,
    ),
    { maxMemoryPercent: 50, maxMemoryMb: 2048, adaptiveBatching: false, memorySampleMs: 100, maxPauseMs: 0, workerMaxTasks: 0, workerMaxMb: 0, cgroupRoot: '/tmp/cg' },
  );
  for (const value of ['TRUE', '1', 'yes', 'on']) t.true(parseConfig({ EMBEDDING_ADAPTIVE_BATCHING: value }, 2).adaptiveBatching);
  for (const value of ['False', '0', 'no', 'off']) t.false(parseConfig({ EMBEDDING_ADAPTIVE_BATCHING: value }, 2).adaptiveBatching);
});

test('bad memory settings name the variable and the rule', (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ EMBEDDING_MAX_MEMORY_PERCENT: '0' }, /EMBEDDING_MAX_MEMORY_PERCENT="0": must be at least 1/],
    [{ EMBEDDING_MAX_MEMORY_PERCENT: '101' }, /EMBEDDING_MAX_MEMORY_PERCENT="101": must be at most 100/],
    [{ EMBEDDING_MAX_MEMORY_MB: '10' }, /EMBEDDING_MAX_MEMORY_MB="10": must be at least 64/],
    [{ EMBEDDING_ADAPTIVE_BATCHING: 'maybe' }, /EMBEDDING_ADAPTIVE_BATCHING="maybe": must be true or false/],
    [{ EMBEDDING_MEMORY_SAMPLE_MS: '5' }, /EMBEDDING_MEMORY_SAMPLE_MS="5": must be at least 50/],
    [{ EMBEDDING_WORKER_MAX_TASKS: '-1' }, /EMBEDDING_WORKER_MAX_TASKS="-1": must be an integer/],
  ];
  for (const [env, message] of cases) {
    const error = t.throws(() => parseConfig(env, 2), { instanceOf: ConfigError });
    t.regex(error!.message, message);
  }
});
