/**
 * Fast checks of what issue 12 added for clients of the original Python worker: its environment variables (aliases,
 * float percentages, pydantic's booleans), its batch events, and the text cut that replaced the per-chunk refusal.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import { parseConfig } from '../src/config.js';
import { batchMemoryBytes, largestBatchBytes } from '../src/model/spec.js';
import { cutTexts } from '../src/core/embedder.js';
import { BATCH_COMPLETED, BATCH_FAILED, BATCH_STARTED, batchEvents, type BatchEvent } from '../src/core/batch-events.js';

test('the original’s EMBEDDING_HOST, EMBEDDING_PORT and EMBEDDING_MODEL_PATH are read when ours are unset', (t) => {
  t.like(parseConfig({ EMBEDDING_HOST: '127.0.0.1', EMBEDDING_PORT: '9000', EMBEDDING_MODEL_PATH: '/app/models/minilm-l6' }, 2), {
    host: '127.0.0.1',
    port: 9000,
    modelDir: '/app/models/minilm-l6',
  });
});

test('HOST, PORT and EMBEDDING_MODEL_DIR win over the original’s names when both are set', (t) => {
  const both = { HOST: '::', EMBEDDING_HOST: '127.0.0.1', PORT: '8080', EMBEDDING_PORT: '9000', EMBEDDING_MODEL_DIR: '/ours', EMBEDDING_MODEL_PATH: '/theirs' };
  t.like(parseConfig(both, 2), { host: '::', port: 8080, modelDir: '/ours' });
  // Empty means unset, so the alias applies.
  t.like(parseConfig({ PORT: '', EMBEDDING_PORT: '9000' }, 2), { port: 9000 });
  t.like(parseConfig({}, 2), { host: '0.0.0.0', port: 8000, modelDir: undefined });
});

test('a bad value under the original’s name is reported under that name', (t) => {
  t.throws(() => parseConfig({ EMBEDDING_PORT: 'eighty' }, 2), { message: /EMBEDDING_PORT="eighty": must be an integer/ });
  // Set beside ours, the alias is not read at all.
  t.is(parseConfig({ PORT: '8080', EMBEDDING_PORT: 'eighty' }, 2).port, 8080);
});

test('EMBEDDING_MAX_MEMORY_PERCENT takes the original’s float spelling', (t) => {
  t.is(parseConfig({ EMBEDDING_MAX_MEMORY_PERCENT: '70.0' }, 2).maxMemoryPercent, 70);
  t.is(parseConfig({ EMBEDDING_MAX_MEMORY_PERCENT: '62.5' }, 2).maxMemoryPercent, 62.5);
  t.is(parseConfig({ EMBEDDING_MAX_MEMORY_PERCENT: '60' }, 2).maxMemoryPercent, 60);
  t.throws(() => parseConfig({ EMBEDDING_MAX_MEMORY_PERCENT: '100.5' }, 2), { message: /EMBEDDING_MAX_MEMORY_PERCENT="100.5": must be at most 100/ });
  t.throws(() => parseConfig({ EMBEDDING_MAX_MEMORY_PERCENT: '70%' }, 2), { message: /EMBEDDING_MAX_MEMORY_PERCENT="70%": must be a number/ });
});

test('EMBEDDING_ADAPTIVE_BATCHING takes every spelling pydantic took', (t) => {
  for (const yes of ['true', 'True', '1', 'yes', 'on', 't', 'y']) t.true(parseConfig({ EMBEDDING_ADAPTIVE_BATCHING: yes }, 2).adaptiveBatching, yes);
  for (const no of ['false', 'FALSE', '0', 'no', 'off', 'f', 'n']) t.false(parseConfig({ EMBEDDING_ADAPTIVE_BATCHING: no }, 2).adaptiveBatching, no);
});

test('EMBEDDING_MAX_SEQ_LENGTH: 256 by default, up to the model’s 512 positions', (t) => {
  t.is(parseConfig({}, 2).maxSeqLength, 256);
  t.is(parseConfig({ EMBEDDING_MAX_SEQ_LENGTH: '512' }, 2).maxSeqLength, 512);
  t.throws(() => parseConfig({ EMBEDDING_MAX_SEQ_LENGTH: '1024' }, 2), { message: /EMBEDDING_MAX_SEQ_LENGTH="1024": must be at most 512/ });
});

test('at EMBEDDING_MAX_SEQ_LENGTH=512 the memory model bounds batches by 512-token rows', (t) => {
  // The default token budget (256) still lets one 512-token chunk run alone: that row is the worst batch.
  t.is(largestBatchBytes(64, 256, 512), batchMemoryBytes(1, 512));
  t.true(largestBatchBytes(64, 256, 512) > largestBatchBytes(64, 256));
  t.is(largestBatchBytes(64, 256), largestBatchBytes(64, 256, 256));
});

function capture() {
  const lines: Array<{ level: number; msg: string; event: BatchEvent }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

test('batch events: started, then completed with the original’s payload fields', async (t) => {
  const { log, lines } = capture();
  const events = batchEvents(log, 'b-1', 3);
  events.completed();
  events.completed(); // only one closing event per request
  await new Promise((r) => setImmediate(r));
  t.deepEqual(
    lines.map((l) => l.event.type),
    [BATCH_STARTED, BATCH_COMPLETED],
  );
  t.deepEqual(lines[0]!.event.payload, { batch_id: 'b-1', chunk_count: 3 });
  t.deepEqual(Object.keys(lines[1]!.event.payload), ['batch_id', 'chunk_count', 'duration_ms']);
  t.is(lines[1]!.msg, `Event: ${BATCH_COMPLETED}`);
  t.regex(lines[0]!.event.timestamp, /Z$/);
});

test('batch events: a failed request ends with batch_failed and its error code, never also completed', async (t) => {
  const { log, lines } = capture();
  const events = batchEvents(log, 'b-2', 5);
  events.failed('overloaded');
  events.completed();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(
    lines.map((l) => l.event.type),
    [BATCH_STARTED, BATCH_FAILED],
  );
  t.like(lines[1]!.event.payload, { batch_id: 'b-2', chunk_count: 5, error_code: 'overloaded' });
  t.is(lines[1]!.level, 40);
});

test('texts over the character cut are cut, never between a surrogate pair; shorter ones are the same strings', (t) => {
  const texts = ['short', 'x'.repeat(20), `${'y'.repeat(9)}😀tail`];
  t.is(cutTexts(texts, 100), texts);
  const cut = cutTexts(texts, 10);
  t.deepEqual(cut, ['short', 'x'.repeat(10), 'y'.repeat(9)]);
  t.deepEqual(cutTexts(texts, undefined), texts);
});
