import test from 'ava';
import { pino } from 'pino';
import { decodeEntry, encodeEntry, type CacheEntry } from '../src/cache/entry.js';
import { cacheKey, identityDigest, type CacheIdentity } from '../src/cache/key.js';
import { entryBytes, MemoryTier } from '../src/cache/memory-tier.js';
import { TieredCache } from '../src/cache/tiered-cache.js';
import { entriesToEvict } from '../src/cache/disk-tier.js';
import { distinctTexts, rowRunner } from '../src/core/cached-rows.js';
import { allocateRows } from '../src/core/batch-runner.js';
import { RuntimeLimits } from '../src/core/runtime-limits.js';
import { BatchScheduler } from '../src/core/scheduler.js';
import { nextCacheCap } from '../src/supervisor/cache-policy.js';
import type { BatchResult } from '../src/workers/batch-result.js';
import { stubTokens, stubVector } from '../harness/app.js';

/**
 * The embedding cache's pure parts (key, entry format, memory tier, eviction, the supervisor's bound) and the
 * lookup → compute → fill step in front of the batch runner, on a scheduler whose batches are stub vectors.
 */
const DIMS = 384;
const silent = pino({ level: 'silent' });

const identity: CacheIdentity = {
  model: 'sentence-transformers/all-MiniLM-L6-v2',
  variant: 'fp32',
  files: { 'model.onnx': 'a'.repeat(64), 'tokenizer.json': 'b'.repeat(64) },
  maxSeqLength: 256,
  computation: 'truncate/mean-pool/l2/v1',
};

test('the key changes with the model files, the sequence length, the computation and the text, and with nothing else', (t) => {
  const key = (id: CacheIdentity, text = 'def f(): pass') => cacheKey(identityDigest(id), text).toString('hex');
  const base = key(identity);
  t.is(key({ ...identity }), base);
  t.is(key({ ...identity, files: { 'tokenizer.json': 'b'.repeat(64), 'model.onnx': 'a'.repeat(64) } }), base, 'file order does not matter');
  const others = [
    key({ ...identity, files: { ...identity.files, 'model.onnx': 'c'.repeat(64) } }),
    key({ ...identity, files: { ...identity.files, 'tokenizer.json': 'c'.repeat(64) } }),
    key({ ...identity, files: { 'model_int8.onnx': 'a'.repeat(64), 'tokenizer.json': 'b'.repeat(64) } }),
    key({ ...identity, maxSeqLength: 512 }),
    key({ ...identity, variant: 'int8' }),
    key({ ...identity, computation: 'windows/mean/v1' }),
    key(identity, 'def f(): pass '),
    key(identity, 'def f():\tpass'),
  ];
  t.is(new Set([base, ...others]).size, others.length + 1);
  t.is(cacheKey(identityDigest(identity), 'x').length, 32);
});

const entry = (text: string): CacheEntry => ({ vector: stubVector(text), ...stubTokens(text) });

test('an entry comes back from its bytes bit for bit; a damaged one, or one read under another key, is refused', (t) => {
  const key = cacheKey(identityDigest(identity), 'hello');
  const e: CacheEntry = { vector: stubVector('hello'), tokens: 257, truncated: true };
  const bytes = encodeEntry(key, e);
  t.is(bytes.length, 12 + DIMS * 4);
  const back = decodeEntry(key, bytes, DIMS)!;
  t.deepEqual(Buffer.from(back.vector.buffer), Buffer.from(e.vector.buffer));
  t.like(back, { tokens: 257, truncated: true });
  for (const at of [0, 1, 2, 5, 9, 12, 500, bytes.length - 1]) {
    const damaged = Buffer.from(bytes);
    damaged[at]! ^= 0x10;
    t.is(decodeEntry(key, damaged, DIMS), undefined, `byte ${at} flipped`);
  }
  t.is(decodeEntry(cacheKey(identityDigest(identity), 'other'), bytes, DIMS), undefined);
  t.is(decodeEntry(key, bytes.subarray(0, bytes.length - 4), DIMS), undefined);
  t.is(decodeEntry(key, bytes, 383), undefined);
});

test('the memory tier evicts the least recently used entries beyond its bound in bytes', (t) => {
  const per = entryBytes(DIMS);
  const tier = new MemoryTier(3 * per + 10, DIMS);
  const k = (s: string) => cacheKey(identityDigest(identity), s);
  tier.put(['a', 'b', 'c'].map((s) => ({ key: k(s), entry: entry(s) })));
  t.is(tier.bytes, 3 * per);
  tier.get([k('a')]); // a is now the most recently used
  tier.put([{ key: k('d'), entry: entry('d') }]);
  t.deepEqual(
    tier.get(['a', 'b', 'c', 'd'].map(k)).map((e) => e !== undefined),
    [true, false, true, true],
  );
  t.like(tier.stats(), { entries: 3, bytes: 3 * per, evictions: 1, hits: 4, misses: 1 });
  // The supervisor's bound: below it, the oldest go; it never rises above the configured bound.
  t.is(tier.setCap(per), 2 * per);
  t.is(tier.stats().entries, 1);
  t.is(tier.setCap(10 * per), 0);
  t.is(tier.capBytes, 3 * per + 10);
  tier.setCap(0);
  tier.put([{ key: k('e'), entry: entry('e') }]);
  t.is(tier.stats().entries, 0);
});

test('the disk tier evicts just enough of the oldest entries to get back under 90% of its bound', (t) => {
  t.is(entriesToEvict(900, 1000, 10), 0);
  t.is(entriesToEvict(1000, 1000, 10), 0);
  t.is(entriesToEvict(1100, 1000, 11), 2); // 100 bytes each: down to 900
  t.is(entriesToEvict(5000, 1000, 5), 5); // never more than it holds
  t.is(entriesToEvict(5000, 1000, 0), 0);
});

test('the supervisor empties the memory tier over budget, halves it at high pressure, holds it when elevated and grows it back when calm', (t) => {
  const base = { calmSamples: 0, growAfterSamples: 3, heldBytes: 40, capBytes: 64, configuredBytes: 64 };
  t.like(nextCacheCap({ ...base, level: 'critical' }), { capBytes: 0 });
  t.is(nextCacheCap({ ...base, level: 'critical', heldBytes: 0, capBytes: 0 }), undefined);
  t.like(nextCacheCap({ ...base, level: 'high' }), { capBytes: 20 });
  t.like(nextCacheCap({ ...base, level: 'high', heldBytes: 10, capBytes: 20 }), { capBytes: 5 });
  t.is(nextCacheCap({ ...base, level: 'high', heldBytes: 0, capBytes: 0 }), undefined);
  t.is(nextCacheCap({ ...base, level: 'elevated', capBytes: 8 }), undefined);
  t.is(nextCacheCap({ ...base, level: 'calm', capBytes: 8, calmSamples: 2 }), undefined);
  t.like(nextCacheCap({ ...base, level: 'calm', capBytes: 8, calmSamples: 3 }), { capBytes: 24 });
  t.like(nextCacheCap({ ...base, level: 'calm', capBytes: 60, calmSamples: 3 }), { capBytes: 64 });
  t.is(nextCacheCap({ ...base, level: 'calm', calmSamples: 9 }), undefined);
});

test('distinctTexts gives each text once and each row its text', (t) => {
  const { distinct, slot } = distinctTexts(['x', 'a', 'b', 'a', 'a', 'c'], 1, 5);
  t.deepEqual(distinct, ['a', 'b', 'c']);
  t.deepEqual([...slot], [0, 1, 0, 0, 2]);
});

/** A scheduler whose batches are the stub's vectors, counting the texts it ran. */
function stubScheduler() {
  const ran: string[] = [];
  const run = (texts: string[]): Promise<BatchResult> => {
    ran.push(...texts);
    const result: BatchResult = { vectors: new Float32Array(texts.length * DIMS), tokens: new Uint16Array(texts.length), truncated: new Uint8Array(texts.length) };
    texts.forEach((text, i) => {
      result.vectors.set(stubVector(text), i * DIMS);
      const { tokens, truncated } = stubTokens(text);
      result.tokens[i] = tokens;
      result.truncated[i] = truncated ? 1 : 0;
    });
    return Promise.resolve(result);
  };
  const limits = new RuntimeLimits({ minBatchSize: 1, maxBatchSize: 8, maxConcurrency: 2 });
  return { ran, limits, scheduler: new BatchScheduler<BatchResult>(run, limits) };
}

test('in front of the batch runner: repeats run once, a second request is served from the cache bit for bit, and the count says so', async (t) => {
  const memory = new MemoryTier(64 * 1024 * 1024, DIMS);
  const cache = new TieredCache(Promise.resolve(identityDigest(identity)), [memory], silent);
  const run = rowRunner(cache);
  const { ran, limits, scheduler } = stubScheduler();
  const options = () => ({ owner: {}, signal: new AbortController().signal, maxBatchTokens: 256 });
  const texts = ['alpha', 'beta', 'alpha', 'gamma '.repeat(300), 'beta', 'alpha'];

  const first = allocateRows(0, texts.length, DIMS);
  await run(scheduler, limits, texts, first, options());
  t.deepEqual([...ran].sort(), ['alpha', 'beta', 'gamma '.repeat(300)].sort(), 'each distinct text ran once');
  t.is(first.cached, 0);
  t.is(cache.stats().duplicates, 3);

  // The same rows computed without any cache are the reference.
  const plain = allocateRows(0, texts.length, DIMS);
  await rowRunner(undefined)(stubScheduler().scheduler, limits, texts, plain, options());
  t.deepEqual(Buffer.from(first.vectors.buffer), Buffer.from(plain.vectors.buffer));
  t.deepEqual([...first.tokens], [...plain.tokens]);
  t.deepEqual([...first.truncated], [...plain.truncated]);

  // A later request: its known texts come from the cache, only the new one runs.
  ran.length = 0;
  const later = ['gamma '.repeat(300), 'delta', 'alpha'];
  const second = allocateRows(0, later.length, DIMS);
  await run(scheduler, limits, later, second, options());
  t.deepEqual(ran, ['delta']);
  t.is(second.cached, 2);
  const again = allocateRows(0, later.length, DIMS);
  await rowRunner(undefined)(stubScheduler().scheduler, limits, later, again, options());
  t.deepEqual(Buffer.from(second.vectors.buffer), Buffer.from(again.vectors.buffer));
  t.deepEqual([...second.truncated], [1, 0, 0]);
  t.like(memory.stats(), { entries: 4, hits: 2 });
});

test('a window of a streamed request (rows at an offset) is looked up and filled in place', async (t) => {
  const cache = new TieredCache(Promise.resolve(identityDigest(identity)), [new MemoryTier(1024 * 1024, DIMS)], silent);
  const run = rowRunner(cache);
  const { ran, limits, scheduler } = stubScheduler();
  const texts = ['w0', 'w1', 'w2', 'w1', 'w4'];
  const window = allocateRows(2, 3, DIMS);
  await run(scheduler, limits, texts, window, { owner: {}, signal: new AbortController().signal, maxBatchTokens: 256 });
  t.deepEqual(ran.sort(), ['w1', 'w2', 'w4']);
  // Row 1 of the window is request row 3, the text 'w1'.
  t.deepEqual(Buffer.from(window.vectors.slice(DIMS, 2 * DIMS).buffer), Buffer.from(stubVector('w1').buffer));
  t.is(window.cached, 0);
});

test('without a model identity (files that could not be hashed) requests run uncached', async (t) => {
  const memory = new MemoryTier(1024 * 1024, DIMS);
  const run = rowRunner(new TieredCache(Promise.resolve(undefined), [memory], silent));
  const { ran, limits, scheduler } = stubScheduler();
  const rows = allocateRows(0, 2, DIMS);
  await run(scheduler, limits, ['a', 'a'], rows, { owner: {}, signal: new AbortController().signal, maxBatchTokens: 256 });
  t.deepEqual(ran, ['a', 'a']);
  t.is(memory.stats().entries, 0);
});
