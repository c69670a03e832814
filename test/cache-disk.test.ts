import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { DISK_FILE, DiskTier } from '../src/cache/disk-tier.js';
import type { CacheEntry } from '../src/cache/entry.js';
import { cacheKey } from '../src/cache/key.js';
import { stubTokens, stubVector } from '../harness/app.js';
import { makeReadOnly } from '../harness/read-only.js';

/**
 * The disk tier on a real SQLite file in a temporary directory: it survives a reopen bit for bit, stays within its
 * bound by evicting the least recently used entries, and a damaged file or a read-only directory leaves it off with
 * one warning and every lookup a miss, never an exception. The same through the real server: test/e2e/cache.test.ts.
 */
const DIMS = 384;
const ID = Buffer.alloc(32, 7);
const key = (text: string) => cacheKey(ID, text);
const entry = (text: string): CacheEntry => ({ vector: stubVector(text), ...stubTokens(text) });

function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, warnings: () => lines.filter((l) => l.level === 40) };
}

const tempDir = (t: { teardown: (fn: () => void) => void }) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'embed-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('entries written before a close are read back bit for bit after reopening', async (t) => {
  const dir = tempDir(t);
  const { logger, warnings } = recordingLogger();
  const texts = Array.from({ length: 1200 }, (_, i) => `chunk ${i}`);
  const first = DiskTier.open({ dir, maxBytes: 64 * 1024 * 1024, dims: DIMS, logger });
  t.true(first.up);
  first.put(texts.map((text) => ({ key: key(text), entry: entry(text) })));
  await first.close();

  const second = DiskTier.open({ dir, maxBytes: 64 * 1024 * 1024, dims: DIMS, logger });
  t.is(second.stats().entries, texts.length);
  const found = await second.get([...texts, 'never stored'].map(key));
  t.is(found.at(-1), undefined);
  texts.forEach((text, i) => {
    t.deepEqual(Buffer.from(found[i]!.vector.buffer), Buffer.from(stubVector(text).buffer));
    t.is(found[i]!.tokens, stubTokens(text).tokens);
  });
  t.like(second.stats(), { hits: texts.length, misses: 1, corrupt: 0, up: 1 });
  await second.close();
  t.deepEqual(warnings(), []);
});

test('the file stays within EMBEDDING_CACHE_DISK_MB: the least recently used entries are evicted', async (t) => {
  const dir = tempDir(t);
  const maxBytes = 1.2 * 1024 * 1024; // about 700 entries
  let now = Date.now();
  const tier = DiskTier.open({ dir, maxBytes, dims: DIMS, logger: pino({ level: 'silent' }), now: () => now });
  const round = async (name: string) => {
    now += 60 * 60 * 1000;
    const texts = Array.from({ length: 200 }, (_, i) => `${name} ${i}`);
    tier.put(texts.map((text) => ({ key: key(text), entry: entry(text) })));
    await tier.flush();
    return texts;
  };
  const a = await round('a');
  const b = await round('b');
  now += 60 * 60 * 1000;
  t.true((await tier.get(a.map(key))).every((e) => e !== undefined)); // a is used again: now newer than b
  await tier.flush();
  const c = await round('c');
  const d = await round('d');
  const present = async (texts: string[]) => (await tier.get(texts.map(key))).filter((e) => e !== undefined).length;
  const stats = tier.stats();
  t.true(stats.bytes <= maxBytes, `${stats.bytes} bytes held`);
  t.true(stats.evictions > 0);
  t.is(await present(a), 200);
  t.is(await present(c), 200);
  t.is(await present(d), 200);
  t.is(await present(b), 200 - stats.evictions, 'only the least recently used (b) went');
  await tier.close();
});

function damage(file: string, from: number, every: number): void {
  const fd = openSync(file, 'r+');
  const size = fstatSync(fd).size;
  for (let at = from; at < size; at += every) writeSync(fd, Buffer.alloc(256, 0xa5), 0, 256, at);
  closeSync(fd);
}

async function storeWith(dir: string, texts: string[]): Promise<void> {
  const tier = DiskTier.open({ dir, maxBytes: 64 * 1024 * 1024, dims: DIMS, logger: pino({ level: 'silent' }) });
  tier.put(texts.map((text) => ({ key: key(text), entry: entry(text) })));
  await tier.close();
}

test('a file that is not a database leaves the tier off with one warning; lookups are misses and writes are dropped', async (t) => {
  const dir = tempDir(t);
  const texts = Array.from({ length: 300 }, (_, i) => `text ${i}`);
  await storeWith(dir, texts);
  damage(path.join(dir, DISK_FILE), 0, 1 << 30); // the header
  const { logger, warnings } = recordingLogger();
  const tier = DiskTier.open({ dir, maxBytes: 64 * 1024 * 1024, dims: DIMS, logger });
  t.false(tier.up);
  t.deepEqual(await tier.get(texts.slice(0, 5).map(key)), [undefined, undefined, undefined, undefined, undefined]);
  t.notThrows(() => tier.put([{ key: key('new'), entry: entry('new') }]));
  await tier.close();
  t.is(warnings().length, 1);
  t.regex(warnings()[0]!.msg, /disk tier is off: .*embeddings\.sqlite could not be opened.*delete a damaged file/);
  t.like(tier.stats(), { up: 0, hits: 0, misses: 5 });
});

test('damaged pages inside the file are counted misses, and every vector served is the one stored', async (t) => {
  const dir = tempDir(t);
  const texts = Array.from({ length: 1500 }, (_, i) => `text ${i}`);
  await storeWith(dir, texts);
  damage(path.join(dir, DISK_FILE), 64 * 1024, 96 * 1024);
  const tier = DiskTier.open({ dir, maxBytes: 64 * 1024 * 1024, dims: DIMS, logger: pino({ level: 'silent' }) });
  const found = await tier.get(texts.map(key));
  let served = 0;
  found.forEach((e, i) => {
    if (e === undefined) return;
    served++;
    t.deepEqual(Buffer.from(e.vector.buffer), Buffer.from(stubVector(texts[i]!).buffer));
  });
  const stats = tier.stats();
  t.true(stats.corrupt > 0, 'some entries were found damaged');
  t.is(stats.hits, served);
  t.is(stats.hits + stats.misses, texts.length);
  await tier.close();
});

test('a read-only directory leaves the tier off with one warning', async (t) => {
  for (const existing of [false, true]) {
    const dir = tempDir(t);
    if (existing) await storeWith(dir, ['kept']);
    const readOnly = makeReadOnly(dir);
    t.teardown(() => readOnly.undo());
    const { logger, warnings } = recordingLogger();
    const tier = DiskTier.open({ dir, maxBytes: 64 * 1024 * 1024, dims: DIMS, logger });
    const found = await tier.get([key('kept')]);
    tier.put([{ key: key('new'), entry: entry('new') }]);
    await tier.close();
    readOnly.undo();
    t.false(tier.up, existing ? 'with a store in it' : 'empty');
    t.is(warnings().length, 1);
    t.deepEqual(found, [undefined]);
  }
});

test('a directory that cannot be created leaves the tier off with one warning', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'a-file');
  closeSync(openSync(file, 'w'));
  const { logger, warnings } = recordingLogger();
  const tier = DiskTier.open({ dir: path.join(file, 'cache'), maxBytes: 1024 * 1024, dims: DIMS, logger });
  t.false(tier.up);
  t.is(warnings().length, 1);
});
