import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '../../harness/nats.js';
import { jsonLines, metricValue, waitFor } from '../../harness/probe.js';
import { postJson, startServer, type RunningServer } from '../../harness/server.js';

/**
 * The embedding cache through the real server and model (issue 14): a repeated text runs once, a hit is bit for bit
 * the vector the model computed (base64 of the float32 bytes), in the same process and after a restart from the disk
 * tier, and a damaged store leaves the service serving without its disk tier. The tiers' own tests: test/cache*.test.ts.
 */
const dirs: string[] = [];
const servers: RunningServer[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer({ EMBEDDING_WORKERS: '1', ...env });
  servers.push(server);
  await server.waitReady();
  return server;
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'embed-cache-e2e-'));
  dirs.push(dir);
  return dir;
}

const TEXTS = [
  'def add(a, b):\n    return a + b',
  'Adds two numbers.',
  'def add(a, b):\n    return a + b',
  'import numpy as np\n' + 'x = np.arange(10) ** 2\n'.repeat(60), // past 256 word pieces: truncated
  'def add(a, b):\n    return a + b',
];

/** /v1/embeddings in base64: the exact float32 bytes of every vector, and the usage. */
async function embedExact(url: string, input: string[]) {
  const res = await postJson(`${url}/v1/embeddings`, { model: 'all-MiniLM-L6-v2', input, encoding_format: 'base64' });
  if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
  return { vectors: (res.json.data as { embedding: string }[]).map((d) => d.embedding), usage: res.json.usage as { prompt_tokens: number; cached_chunks: number } };
}

test('repeats in a request run once; the next request is served from memory, and after a restart from disk, bit for bit', async (t) => {
  const dir = tempDir();
  const first = await start({ EMBEDDING_CACHE_DIR: dir });
  const computed = await embedExact(first.url, TEXTS);
  t.is(computed.usage.cached_chunks, 0);
  t.is(await metricValue(first.url, 'embedding_chunks_total'), 3, 'three distinct texts ran through the model');
  t.is(await metricValue(first.url, 'embedding_cache_duplicate_chunks_total'), 2);
  t.is(computed.vectors[0], computed.vectors[2]);

  const again = await embedExact(first.url, TEXTS);
  t.deepEqual(again.vectors, computed.vectors);
  t.is(again.usage.cached_chunks, 5);
  t.is(again.usage.prompt_tokens, computed.usage.prompt_tokens);
  t.is(await metricValue(first.url, 'embedding_chunks_total'), 3, 'nothing ran again');
  t.is(await metricValue(first.url, 'embedding_cache_hits_total{tier="memory"}'), 3);

  // /embed reports the same, with tokens and truncated as computed.
  const chunks = TEXTS.map((content, i) => ({ chunk_id: `c${i}`, content }));
  const embed = await postJson(`${first.url}/embed`, { batch_id: 'b', chunks });
  t.like(embed.json.usage, { chunks: 5, cached_chunks: 5 });
  t.true(embed.json.vectors[3].truncated);

  t.is(await first.stop(), 0); // a graceful stop writes what the disk tier still had queued
  const second = await start({ EMBEDDING_CACHE_DIR: dir, EMBEDDING_CACHE_MB: '0' });
  const fromDisk = await embedExact(second.url, TEXTS);
  t.deepEqual(fromDisk.vectors, computed.vectors);
  t.is(fromDisk.usage.cached_chunks, 5);
  t.is(await metricValue(second.url, 'embedding_cache_hits_total{tier="disk"}'), 3);
  t.is(await metricValue(second.url, 'embedding_chunks_total'), 0);
  t.is(Number.isNaN(await metricValue(second.url, 'embedding_cache_hits_total{tier="memory"}')), true, 'no memory tier');

  // Another sequence length is another key: nothing is served from the same directory.
  await second.stop();
  const longer = await start({ EMBEDDING_CACHE_DIR: dir, EMBEDDING_MAX_SEQ_LENGTH: '512' });
  const at512 = await embedExact(longer.url, TEXTS);
  t.is(at512.usage.cached_chunks, 0);
  t.notDeepEqual(at512.vectors[3], computed.vectors[3], 'the long text is cut later at 512');
});

test('a damaged store file: the service serves without its disk tier, with one warning and the tier reported down', async (t) => {
  const dir = tempDir();
  const fd = openSync(path.join(dir, 'embeddings.sqlite'), 'w');
  writeSync(fd, Buffer.alloc(64 * 1024, 0x5a));
  closeSync(fd);
  const server = await start({ EMBEDDING_CACHE_DIR: dir });
  const first = await embedExact(server.url, ['one text', 'two texts']);
  const second = await embedExact(server.url, ['one text', 'two texts']);
  t.deepEqual(second.vectors, first.vectors);
  t.is(second.usage.cached_chunks, 2, 'the memory tier still serves');
  t.is(await metricValue(server.url, 'embedding_cache_tier_up{tier="disk"}'), 0);
  t.is(await metricValue(server.url, 'embedding_cache_tier_up{tier="memory"}'), 1);
  const warnings = jsonLines(server.logs).filter((l) => l.level === 40 && l.cache === 'disk');
  t.is(warnings.length, 1);
  t.regex(warnings[0]!.msg as string, /disk tier is off/);
});

test('EMBEDDING_CACHE=off: every chunk runs through the model and nothing is counted as cached', async (t) => {
  const server = await start({ EMBEDDING_CACHE: 'off' });
  await embedExact(server.url, TEXTS);
  const again = await embedExact(server.url, TEXTS);
  t.is(again.usage.cached_chunks, 0);
  t.is(await metricValue(server.url, 'embedding_chunks_total'), 10);
  t.true(Number.isNaN(await metricValue(server.url, 'embedding_cache_duplicate_chunks_total')));
});

test('queue worker mode: what one machine embedded, another serves from the shared bucket, bit for bit', async (t) => {
  const nats = await startNatsServer();
  t.teardown(() => nats.stop());
  const env = { EMBEDDING_NATS_URL: nats.url, EMBEDDING_CACHE_KV_BUCKET: 'e2e-shared' };
  const first = await start(env);
  const computed = await embedExact(first.url, TEXTS);
  t.is(computed.usage.cached_chunks, 0);

  // The shared tier writes in the background: wait until the bucket holds the three distinct texts.
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const bucket = await new Kvm(nc).open('e2e-shared');
  await waitFor(async () => ((await bucket.status()).values >= 3 ? true : undefined), 100);

  // Another machine with no memory or disk tier of its own.
  const second = await start({ ...env, EMBEDDING_CACHE_MB: '0' });
  const shared = await embedExact(second.url, TEXTS);
  t.deepEqual(shared.vectors, computed.vectors);
  t.is(shared.usage.cached_chunks, 5);
  t.is(await metricValue(second.url, 'embedding_cache_hits_total{tier="kv"}'), 3);
  t.is(await metricValue(second.url, 'embedding_chunks_total'), 0);
  t.is(await metricValue(second.url, 'embedding_cache_tier_up{tier="kv"}'), 1);
});
