import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { loadReference } from '../../harness/reference.js';
import { cosine, postJson, startServer, type RunningServer } from '../../harness/server.js';
import { projectRoot } from '../../src/model/files.js';
import { EmbedResponse } from '../../src/router/schemas.js';

/**
 * long_input (issue 15) with the real model over HTTP: a text that fits one window gets truncate's vector bit for bit
 * in every mode; long texts cut into windows agree with sentence-transformers on each window's text and with the same
 * weighted mean (scripts/reference/reference-long.json, made by make_reference.py --long-input); order and count hold
 * with short and long chunks mixed, on both routes and in NDJSON; the window bound cuts and says so.
 */
let server: RunningServer;

test.before(async () => {
  server = await startServer();
  await server.waitReady();
});
test.after.always(async () => {
  await server?.stop();
});

interface LongWindow {
  start: number;
  end: number;
  tokens: number;
  embedding: number[];
}
interface LongItem {
  id: string;
  cut: boolean;
  tokens: number;
  embedding: number[];
  windows: LongWindow[];
}
const reference = JSON.parse(readFileSync(path.join(projectRoot(), 'scripts/reference/reference-long.json'), 'utf8')) as { overlap: number; max_windows: number; items: LongItem[] };
const texts = new Map(
  (JSON.parse(readFileSync(path.join(projectRoot(), 'scripts/reference/long-texts.json'), 'utf8')) as Array<{ id: string; text: string }>).map((t) => [t.id, t.text]),
);
const MIN_COSINE = 0.99999;

interface Entry {
  chunk_id: string;
  vector: number[];
  tokens: number;
  truncated: boolean;
  windows?: Array<{ start: number; end: number; tokens: number; vector: number[] }>;
}

async function embed(chunks: Array<{ chunk_id: string; content: string }>, longInput?: string): Promise<Entry[]> {
  const res = await postJson(`${server.url}/embed`, { batch_id: 'long', chunks, ...(longInput ? { long_input: longInput } : {}) });
  if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
  return EmbedResponse.parse(res.json).vectors as Entry[];
}

test('the defaults the reference was made with are the server defaults', (t) => {
  t.is(reference.overlap, 32);
  t.is(reference.max_windows, 32);
});

test('a text that fits one window gets the same vector, bit for bit, in every mode', async (t) => {
  // The reference texts that fit: from the empty string to exactly 256 word pieces.
  const fitting = loadReference().items.filter((item) => !item.truncated);
  const chunks = fitting.map((item) => ({ chunk_id: item.id, content: item.text }));
  const [truncate, mean, windows] = await Promise.all(['truncate', 'mean', 'windows'].map((mode) => embed(chunks, mode)));
  for (let i = 0; i < chunks.length; i++) {
    t.deepEqual(mean![i], truncate![i], chunks[i]!.chunk_id);
    const { windows: own, ...entry } = windows![i]!;
    t.deepEqual(entry, truncate![i], chunks[i]!.chunk_id);
    t.deepEqual(own, [{ start: 0, end: chunks[i]!.content.length, tokens: truncate![i]!.tokens, vector: truncate![i]!.vector }]);
  }
});

test('long texts: windows and the mean agree with sentence-transformers on each window (cosine >= 0.99999)', async (t) => {
  const chunks = reference.items.map((item) => ({ chunk_id: item.id, content: texts.get(item.id)! }));
  const entries = await embed(chunks, 'windows');
  const mean = await embed(chunks, 'mean');
  let least = 1;
  entries.forEach((entry, i) => {
    const item = reference.items[i]!;
    t.is(entry.chunk_id, item.id);
    t.deepEqual(
      entry.windows!.map((w) => [w.start, w.end, w.tokens]),
      item.windows.map((w) => [w.start, w.end, w.tokens]),
      `${item.id}: window boundaries`,
    );
    entry.windows!.forEach((w, k) => {
      const c = cosine(w.vector, item.windows[k]!.embedding);
      least = Math.min(least, c);
      t.true(c >= MIN_COSINE, `${item.id} window ${k}: cosine ${c}`);
    });
    const c = cosine(entry.vector, item.embedding);
    least = Math.min(least, c);
    t.true(c >= MIN_COSINE, `${item.id}: cosine ${c}`);
    t.is(entry.tokens, item.tokens, item.id);
    t.is(entry.truncated, item.cut, item.id);
    // `mean` is `windows` without the windows.
    const { windows: _windows, ...withoutWindows } = entry;
    t.deepEqual(mean[i], withoutWindows, item.id);
  });
  t.log(`least cosine over ${entries.length} texts and their windows: ${least}`);
});

test('a long chunk counts as cached when all its windows came from the cache', async (t) => {
  // A text no other test sends, so the first request computes every window.
  const content = `${texts.get(reference.items.find((i) => i.windows.length > 2)!.id)!} (a text for the cache count)`;
  const usage = async (longInput: string) => {
    const res = await postJson(`${server.url}/embed`, { batch_id: 'cached', chunks: [{ chunk_id: 'a', content }], long_input: longInput });
    return (res.json as { usage: { cached_chunks: number } }).usage.cached_chunks;
  };
  t.is(await usage('mean'), 0);
  t.is(await usage('mean'), 1);
  t.is(await usage('windows'), 1);
});

test('the window bound cuts a text there and says so', async (t) => {
  const item = reference.items.find((i) => i.cut)!;
  const [entry] = await embed([{ chunk_id: 'big', content: texts.get(item.id)! }], 'windows');
  t.is(entry!.windows!.length, reference.max_windows);
  t.true(entry!.truncated);
  t.true(entry!.windows!.at(-1)!.end < texts.get(item.id)!.length);
});

test('order and count hold with short and long chunks mixed, in JSON and NDJSON', async (t) => {
  const long = [...texts.values()];
  const chunks = Array.from({ length: 120 }, (_, i) => ({ chunk_id: `c${i}`, content: i % 4 === 0 ? long[(i / 4) % long.length]! : `short chunk number ${i}` }));
  const entries = await embed(chunks, 'mean');
  t.deepEqual(
    entries.map((e) => e.chunk_id),
    chunks.map((c) => c.chunk_id),
  );
  // Each entry is what the chunk gets alone.
  const alone = await embed([chunks[4]!, chunks[5]!], 'mean');
  t.deepEqual(entries[4], alone[0]);
  t.deepEqual(entries[5], alone[1]);

  // NDJSON: 30 long chunks make about 280 rows, more than one NDJSON window (256 rows), so a chunk's rows straddle two.
  const res = await fetch(`${server.url}/embed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify({ batch_id: 'nd', chunks, long_input: 'mean' }),
  });
  t.is(res.status, 200);
  const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Entry & { usage?: { chunks: number; tokens: number } });
  const summary = lines.pop()!;
  t.is(summary.usage!.chunks, chunks.length);
  t.deepEqual(lines, entries);
  t.is(summary.usage!.tokens, entries.reduce((sum, e) => sum + e.tokens, 0));
});

test('/v1/embeddings takes long_input and returns windows in its own shape', async (t) => {
  const item = reference.items.find((i) => i.id === 'typescript-scheduler')!;
  const input = ['a short input', texts.get(item.id)!];
  const res = await postJson(`${server.url}/v1/embeddings`, { model: 'm', input, long_input: 'windows' });
  t.is(res.status, 200, res.text);
  const data = res.json.data as Array<{ index: number; embedding: number[]; windows: Array<{ start: number; end: number; tokens: number; embedding: number[] }> }>;
  t.deepEqual(data.map((d) => d.index), [0, 1]);
  t.is(data[0]!.windows.length, 1);
  t.deepEqual(data[1]!.windows.map((w) => [w.start, w.end, w.tokens]), item.windows.map((w) => [w.start, w.end, w.tokens]));
  t.true(cosine(data[1]!.embedding, item.embedding) >= MIN_COSINE);

  // The official client passes the field through as an extra body field.
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
  const mean = await client.embeddings.create({ model: 'm', input, encoding_format: 'float', long_input: 'mean' } as OpenAI.EmbeddingCreateParams);
  t.true(cosine(mean.data[1]!.embedding, item.embedding) >= MIN_COSINE);
  const truncate = await client.embeddings.create({ model: 'm', input, encoding_format: 'float' });
  t.true(cosine(truncate.data[1]!.embedding, item.embedding) < 0.999);
});

test('an unknown long_input is a 422 naming the field', async (t) => {
  const res = await postJson(`${server.url}/embed`, { batch_id: 'x', chunks: [{ chunk_id: 'a', content: 'a' }], long_input: 'split' });
  t.is(res.status, 422);
  t.regex(res.json.error.message, /long_input/);
});
