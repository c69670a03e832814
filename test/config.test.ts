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
