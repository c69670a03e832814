/**
 * `npm run bench:cache`: what the embedding cache (issue 14) buys a re-index, through the real server.
 *   1. cold: a real repository's chunks (NumPy and SciPy sources, harness/source-corpus.ts) embedded in requests of
 *      --request chunks, the cache empty (a fresh EMBEDDING_CACHE_DIR);
 *   2. re-index: the same chunks again with 5% of them changed (every 20th gets a line added): time, and its ratio
 *      to the cold run (target ≥ 10×);
 *   3. one request of every chunk, all of them cached, against the ceiling of only answering it: the same body
 *      parsed and the same response written (src/router/json-stream.ts's float format) by a bare HTTP server;
 *   4. memory: the server's peak RSS over the whole run against its budget; the cache tiers' bytes from /metrics;
 *   5. disk: bytes per 100,000 entries, from the SQLite file's size and its entry count; and the memory tier's real
 *      bytes per entry, measured in this process (heap + external after a full GC) over 20,000 entries.
 * Options: --chunks N (default 50000: the fully cached request is the issue's 50,000 chunks), --request N (chunks
 * per request, default 1000), --quick (2,000 chunks: a smoke run, its times mean nothing).
 * Figures go to BENCHMARKS.md by hand; the JSON report is written to .scratch/bench-cache.json.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { DISK_FILE } from '../src/cache/disk-tier.js';
import { cacheKey } from '../src/cache/key.js';
import { ENTRY_OVERHEAD_BYTES, MemoryTier } from '../src/cache/memory-tier.js';
import { projectRoot } from '../src/model/files.js';
import { DIMENSIONS } from '../src/model/spec.js';
import { vectorJson } from '../src/core/vector-encoding.js';
import { metricValue } from '../harness/probe.js';
import { settledHeapBytes, watchRss } from '../harness/rss.js';
import { startServer } from '../harness/server.js';
import { buildSourceCorpus } from '../harness/source-corpus.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : (args[i + 1] ?? fallback);
};
const quick = args.includes('--quick');
const wanted = Number(option('chunks', quick ? '2000' : '50000'));
const perRequest = Number(option('request', quick ? '500' : '1000'));
const BUDGET_MB = Number(process.env.EMBEDDING_MAX_MEMORY_MB ?? 1536);
const CACHE_MB = Number(process.env.EMBEDDING_CACHE_MB ?? 128);
const MB = 1024 * 1024;

const corpus = (await buildSourceCorpus()).slice(0, wanted);
if (corpus.length < wanted) process.stderr.write(`the corpus holds ${corpus.length} chunks; using all of them\n`);
const texts = corpus.map((c) => c.text);
const changed = texts.map((t, i) => (i % 20 === 7 ? `${t}\n# changed in the next commit` : t));

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cache-'));
const server = await startServer({
  EMBEDDING_CACHE_DIR: dir,
  EMBEDDING_CACHE_MB: String(CACHE_MB),
  EMBEDDING_MAX_MEMORY_MB: String(BUDGET_MB),
  EMBEDDING_MAX_CHUNKS_PER_REQUEST: String(Math.max(50_000, texts.length)),
  EMBEDDING_MAX_QUEUED_CHUNKS: String(Math.max(100_000, texts.length)),
  EMBEDDING_MAX_BODY_BYTES: String(512 * MB),
});
await server.waitReady();
const rss = watchRss(server.proc.pid!);

const body = (list: readonly string[], from: number) => JSON.stringify({ batch_id: `b${from}`, chunks: list.map((content, i) => ({ chunk_id: `c${from + i}`, content })) });

/** Sends `list` in requests of perRequest chunks, one after another, as an indexer would; seconds and cached chunks. */
async function index(list: readonly string[]): Promise<{ seconds: number; cached: number }> {
  const started = performance.now();
  let cached = 0;
  for (let from = 0; from < list.length; from += perRequest) {
    const res = await fetch(`${server.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(list.slice(from, from + perRequest), from) });
    if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
    cached += ((await res.json()) as { usage: { cached_chunks: number } }).usage.cached_chunks;
  }
  return { seconds: (performance.now() - started) / 1000, cached };
}

const cold = await index(texts);
const reindex = await index(changed);
process.stderr.write(`cold ${cold.seconds.toFixed(1)} s, re-index ${reindex.seconds.toFixed(1)} s (${reindex.cached} of ${texts.length} cached)\n`);

// One request of every (changed) chunk, all cached now; then the same through a server that only parses and writes.
const whole = body(changed, 0);
const timeOne = async (url: string) => {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: whole });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${res.status} ${text.slice(0, 200)}`);
  return { seconds: (performance.now() - started) / 1000, text };
};
const cachedRuns = [await timeOne(`${server.url}/embed`), await timeOne(`${server.url}/embed`)];
const cachedAnswer = JSON.parse(cachedRuns[0]!.text) as { vectors: { vector: number[]; tokens: number; truncated: boolean }[]; usage: { cached_chunks: number } };
const vectors = new Float32Array(changed.length * DIMENSIONS);
cachedAnswer.vectors.forEach((v, i) => vectors.set(v.vector, i * DIMENSIONS));

/** The ceiling: parse the body, write the same answer in the same format, nothing else. */
const ceiling = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    const request = JSON.parse(Buffer.concat(parts).toString('utf8')) as { batch_id: string; chunks: { chunk_id: string }[] };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`{"batch_id":${JSON.stringify(request.batch_id)},"vectors":[`);
    let piece = '';
    request.chunks.forEach((c, i) => {
      const v = cachedAnswer.vectors[i]!;
      piece += `${i > 0 ? ',' : ''}{"chunk_id":${JSON.stringify(c.chunk_id)},"vector":${vectorJson(vectors, i, DIMENSIONS)},"tokens":${v.tokens},"truncated":${v.truncated}}`;
      if (piece.length > 65536) {
        res.write(piece);
        piece = '';
      }
    });
    res.end(`${piece}],"usage":{"chunks":${request.chunks.length}}}`);
  });
}).listen(0, '127.0.0.1');
await once(ceiling, 'listening');
const ceilingUrl = `http://127.0.0.1:${(ceiling.address() as AddressInfo).port}/`;
const ceilingRuns = [await timeOne(ceilingUrl), await timeOne(ceilingUrl)];
ceiling.close();

const peak = rss.stop().peak;
const metric = (name: string) => metricValue(server.url, name);
const tiers = {
  memory: { bytes: await metric('embedding_cache_bytes{tier="memory"}'), entries: await metric('embedding_cache_entries{tier="memory"}'), evictions: await metric('embedding_cache_evictions_total{tier="memory"}') },
  disk: { bytes: await metric('embedding_cache_bytes{tier="disk"}'), entries: await metric('embedding_cache_entries{tier="disk"}'), evictions: await metric('embedding_cache_evictions_total{tier="disk"}') },
};
await server.stop();
const files = ['', '-wal', '-shm'].map((s) => path.join(dir, DISK_FILE + s));
const fileBytes = files.reduce((sum, f) => sum + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
rmSync(dir, { recursive: true, force: true });

// The memory tier's real cost per entry in this process: heap and external memory over 20,000 entries.
const before = settledHeapBytes();
const tier = new MemoryTier(1024 * MB, DIMENSIONS);
const id = Buffer.alloc(32, 1);
for (let i = 0; i < 20_000; i += 1000) {
  tier.put(Array.from({ length: 1000 }, (_, j) => ({ key: cacheKey(id, `entry ${i + j}`), entry: { vector: new Float32Array(DIMENSIONS).fill(i + j), tokens: 3, truncated: false } })));
}
const memoryPerEntry = (settledHeapBytes() - before) / 20_000;
tier.get([cacheKey(id, 'entry 0')]); // keeps the tier alive until after the measurement

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const report = {
  quick,
  chunks: texts.length,
  per_request: perRequest,
  cold_seconds: cold.seconds,
  reindex_seconds: reindex.seconds,
  reindex_cached_chunks: reindex.cached,
  speedup: cold.seconds / reindex.seconds,
  fully_cached_request: {
    chunks: changed.length,
    cached_chunks: cachedAnswer.usage.cached_chunks,
    seconds: cachedRuns.map((r) => r.seconds),
    ceiling_seconds: ceilingRuns.map((r) => r.seconds),
    ratio: median(cachedRuns.map((r) => r.seconds)) / median(ceilingRuns.map((r) => r.seconds)),
  },
  memory: { budget_bytes: BUDGET_MB * MB, peak_rss_bytes: peak, within_budget: peak <= BUDGET_MB * MB, cache_mb: CACHE_MB, tiers },
  disk: { file_bytes: fileBytes, entries: tiers.disk.entries, bytes_per_100k_entries: Math.round((fileBytes / tiers.disk.entries) * 100_000) },
  memory_tier_bytes_per_entry: { measured: Math.round(memoryPerEntry), accounted: DIMENSIONS * 4 + ENTRY_OVERHEAD_BYTES },
};
mkdirSync(path.join(projectRoot(), '.scratch'), { recursive: true });
writeFileSync(path.join(projectRoot(), '.scratch', 'bench-cache.json'), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report, null, 2));
console.log(
  `\n| chunks | cold | re-index (5% changed) | speed-up | ${changed.length}-chunk request, all cached | parse + serialize ceiling | peak RSS / budget | disk per 100k |\n|---|---|---|---|---|---|---|---|\n` +
    `| ${texts.length} | ${cold.seconds.toFixed(1)} s | ${reindex.seconds.toFixed(1)} s | ${report.speedup.toFixed(1)}× | ${median(report.fully_cached_request.seconds).toFixed(2)} s | ` +
    `${median(report.fully_cached_request.ceiling_seconds).toFixed(2)} s | ${(peak / MB).toFixed(0)} / ${BUDGET_MB} MB | ${(report.disk.bytes_per_100k_entries / MB).toFixed(0)} MB |`,
);
if (quick) console.log('\n(--quick: a smoke run; its times mean nothing)');
