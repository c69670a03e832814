/**
 * `npm run bench`: throughput and latency of this service against the machine's ceiling and two
 * peers, on a fixed real corpus, written to BENCHMARKS.md between <!-- bench:start --> and
 * <!-- bench:end --> (nothing else in the file is touched).
 *
 *   node bench/run.mjs [--quick] [--no-peers] [--no-write] [--out FILE] [--size N] [--reps N]
 *
 * --quick is a ~2-minute smoke run (small corpus, one repetition); the full run is bounded at about
 * 12 minutes on 2 cores. Every in-process measurement runs in a child process of its own, so each
 * peak RSS is that configuration's alone. Raw results go to bench/.last-run.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { buildCorpus, ROOT } from './corpus.mjs';
import { drive, idleLatency, startChild } from './lib/http.mjs';
import { planEachRequest, requestMix, SHORT_TEXT } from './lib/mix.mjs';
import { median, percentile, sum, treePeakRssMb } from './lib/stats.mjs';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const PEERS = !args.includes('--no-peers');
const WRITE = !args.includes('--no-write');
const OUT = args.includes('--out') ? args[args.indexOf('--out') + 1] : `${ROOT}/BENCHMARKS.md`;
const COMMAND = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;

const { ModelTokenizer } = await import(`${ROOT}/dist/src/workers/thread/tokenizer.js`);
const { planBatches, estimateTokens, DEFAULT_MAX_BATCH_TOKENS, DEFAULT_BATCH_OVERHEAD_TOKENS, WORD_PIECE_CHARS } = await import(`${ROOT}/dist/src/core/planner.js`);
const { vectorJson } = await import(`${ROOT}/dist/src/router/json-stream.js`);

const P = QUICK
  ? {
      size: 60,
      reps: 1,
      shapeSeconds: 0.2,
      shapes: [[16, 64], [8, 256]],
      layouts: [[1, 2], [2, 1]],
      concurrencies: [4],
      latencyIterations: 10,
      peerBudgetS: 30,
      pairs: 2,
    }
  : {
      size: 400,
      reps: 3,
      shapeSeconds: 1,
      shapes: [[4, 64], [8, 64], [16, 64], [32, 64], [64, 64], [2, 128], [4, 128], [8, 128], [16, 128], [32, 128], [64, 128], [1, 256], [2, 256], [4, 256], [8, 256], [16, 256], [32, 256], [64, 256]],
      layouts: [[1, 2], [2, 1], [3, 1], [4, 1]],
      concurrencies: [1, 4, 8],
      latencyIterations: 40,
      peerBudgetS: 120,
      pairs: 6,
    };
// Overrides for exploratory runs: --size N (corpus chunks), --reps N.
for (const key of ['size', 'reps']) {
  const i = args.indexOf(`--${key}`);
  if (i !== -1) P[key] = Number(args[i + 1]);
}
const BUDGET = DEFAULT_MAX_BATCH_TOKENS;
const NO_BUDGET = 1024 * 256;

// --render: rewrite the BENCHMARKS.md section from bench/.last-run.json without measuring again.
if (args.includes('--render')) {
  const r = JSON.parse(readFileSync(`${ROOT}/bench/.last-run.json`, 'utf8'));
  r.best = pickBest(r.layouts);
  r.command ??= 'npm run bench';
  r.quick ??= false;
  r.requests ??= requestMix(buildCorpus(r.params.size)).length;
  r.finishedAt ??= statSync(`${ROOT}/bench/.last-run.json`).mtime.toISOString();
  writeSection(OUT, render(r));
  process.stderr.write(`wrote ${OUT} from bench/.last-run.json\n`);
  process.exit(0);
}
const MODEL_DIR = `${ROOT}/models/all-MiniLM-L6-v2`;
const PY = `${ROOT}/bench/peers/python/.venv/bin/python`;
const TJS = `${ROOT}/bench/peers/transformersjs/node_modules/@xenova/transformers/package.json`;

const started = Date.now();
const log = (...m) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m.join(' ')}\n`);

const jobDir = mkdtempSync(join(os.tmpdir(), 'doctown-bench-'));
let jobs = 0;
/** Runs `node script <job file>` and returns the JSON on its last stdout line. */
function child(script, job, cwd = ROOT) {
  return new Promise((resolve, reject) => {
    const file = join(jobDir, `job-${jobs++}.json`);
    writeFileSync(file, JSON.stringify(job));
    const p = spawn(process.execPath, [script, file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    p.on('exit', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) return reject(new Error(`${script} ${JSON.stringify(job).slice(0, 300)} exited ${code}: ${err}`));
      resolve(JSON.parse(line));
    });
  });
}
const ceiling = (job) => child(`${ROOT}/bench/ceiling.mjs`, job);

// ---------------------------------------------------------------------------------------------
// Machine, versions, corpus
const cpuModel = (() => {
  // The name alone ("AMD EPYC" under KVM) hides the generation and the vector width, which set the ceiling.
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
    const flags = new Set((field('flags') ?? '').split(' '));
    const widest = flags.has('avx512f') ? 'AVX-512' : flags.has('avx2') ? 'AVX2 (no AVX-512)' : 'SSE';
    return `${field('model name')} (family ${field('cpu family')} model ${field('model')}, ${widest}, FMA ${flags.has('fma') ? 'yes' : 'no'})`;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
})();
const version = (pkg) => {
  try {
    return JSON.parse(readFileSync(pkg, 'utf8')).version;
  } catch {
    return 'not installed';
  }
};
const pyVersions = (() => {
  if (!existsSync(PY)) return null;
  try {
    return execFileSync(PY, ['-c', 'import sys,onnxruntime,fastapi,tokenizers;print(sys.version.split()[0],onnxruntime.__version__,fastapi.__version__,tokenizers.__version__)'], { encoding: 'utf8' }).trim().split(' ');
  } catch {
    return null;
  }
})();
const machine = {
  cpu: cpuModel,
  cores: os.availableParallelism(),
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  ort: version(`${ROOT}/node_modules/onnxruntime-node/package.json`),
  transformersjs: version(TJS),
  tjsOrt: version(`${ROOT}/bench/peers/transformersjs/node_modules/onnxruntime-node/package.json`),
  python: pyVersions,
  load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  busyAtStart: await cpuBusyShare(3000),
};
// fp32 matrix-multiply speed of one core (numpy's OpenBLAS, one thread): the yardstick for what
// fraction of the hardware the ceiling reaches, and for the least time a short chunk can take.
machine.gemmGflopsPerCore = (() => {
  const code = 'import numpy as n,time,json\na=n.random.rand(1024,1024).astype(n.float32);b=n.random.rand(1024,1024).astype(n.float32)\nbest=1e9\nfor _ in range(8):\n t=time.perf_counter();a@b;best=min(best,time.perf_counter()-t)\nprint(json.dumps(2*1024**3/best/1e9))';
  try {
    return Number(execFileSync(PY, ['-c', code], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } }).trim());
  } catch {
    return null;
  }
})();
log(`machine: ${machine.cpu}, ${machine.cores} cores; node ${machine.node}; onnxruntime-node ${machine.ort}; load ${machine.load}`);

const corpus = buildCorpus(P.size);
const texts = corpus.map((c) => c.text);
const tokenizer = ModelTokenizer.fromFile(`${MODEL_DIR}/tokenizer.json`);
tokenizer.encode('warm up');
const t0 = performance.now();
const encoded = texts.map((t) => tokenizer.encode(t));
const tokenizeMs = performance.now() - t0;
const tokens = encoded.map((e) => e.ids.length);
const realTokens = sum(tokens);
const HIST = [16, 32, 64, 128, 192, 255, 256];
const histogram = HIST.map((hi, i) => ({ lo: (HIST[i - 1] ?? 0) + 1, hi, count: tokens.filter((t) => t <= hi && t > (HIST[i - 1] ?? 0)).length }));
const ratios = (kind) =>
  corpus
    .map((c, i) => ({ c, i }))
    .filter(({ c, i }) => c.kind === kind && !encoded[i].truncated && tokens[i] > 2)
    .map(({ c, i }) => c.text.length / (tokens[i] - 2))
    .sort((a, b) => a - b);
const charStats = Object.fromEntries(
  ['code', 'prose'].map((k) => {
    const r = ratios(k);
    return [k, { n: r.length, p5: percentile(r, 5), p50: percentile(r, 50), p95: percentile(r, 95) }];
  }),
);
const corpusInfo = {
  chunks: corpus.length,
  code: corpus.filter((c) => c.kind === 'code').length,
  prose: corpus.filter((c) => c.kind === 'prose').length,
  realTokens,
  meanTokens: realTokens / corpus.length,
  truncated: encoded.filter((e) => e.truncated).length,
  histogram,
  charStats,
  tokenizeMsPerChunk: tokenizeMs / corpus.length,
  estimate: (() => {
    const r = texts.map((t, i) => ({ t, i })).filter(({ i }) => !encoded[i].truncated).map(({ t, i }) => estimateTokens(t) / tokens[i]).sort((a, b) => a - b);
    const s = performance.now();
    for (const t of texts) estimateTokens(t);
    return { p5: percentile(r, 5), p50: percentile(r, 50), p95: percentile(r, 95), msPerChunk: (performance.now() - s) / texts.length };
  })(),
  tokenizeTokensPerS: realTokens / (tokenizeMs / 1000),
};
log(`corpus: ${corpus.length} chunks, ${realTokens} tokens (mean ${corpusInfo.meanTokens.toFixed(0)}), ${corpusInfo.truncated} truncated; main-thread tokenization ${corpusInfo.tokenizeMsPerChunk.toFixed(2)} ms/chunk`);

// ---------------------------------------------------------------------------------------------
// Padding: padded tokens / real tokens for each way of forming batches (pure, no inference).
const requests = requestMix(corpus);
const bodies = requests.map((r) => JSON.stringify(r));
const padOf = (batches) => sum(batches.map((b) => b.length * Math.max(...b.map((i) => tokens[i]))));
const overBudget = (batches) => batches.filter((b) => b.length * Math.max(...b.map((i) => tokens[i])) > BUDGET).length;
const perRequest = (plan) => planEachRequest(requests, plan);
const chars = texts.map((t) => t.length);
const estimates = texts.map(estimateTokens);
const padding = [
  {
    name: 'Arrival order, fixed batches of 32 (the Python original)',
    batches: perRequest((idx) => {
      const out = [];
      for (let i = 0; i < idx.length; i += 32) out.push(Array.from({ length: Math.min(32, idx.length - i) }, (_, k) => i + k));
      return out;
    }),
  },
  {
    name: `Per request, sorted by characters, no token budget (an even split in as many batches as the 64-row cap needs)`,
    batches: perRequest((idx) => planBatches(idx.map((i) => chars[i]), { minBatchSize: 8, batchSize: 64, parallelism: 2, batchOverheadTokens: 1e9 })),
  },
  {
    name: `The service: per request, estimated tokens, budget ${BUDGET}, least padding + ${DEFAULT_BATCH_OVERHEAD_TOKENS} tokens per batch`,
    batches: perRequest((idx) => planBatches(idx.map((i) => estimates[i]), { minBatchSize: 8, batchSize: 64, parallelism: 2, maxBatchTokens: BUDGET, longestFirst: true })),
  },
  {
    name: `Same with exact token counts (main-thread tokenization)`,
    batches: perRequest((idx) => planBatches(idx.map((i) => tokens[i]), { minBatchSize: 8, batchSize: 64, parallelism: 2, maxBatchTokens: BUDGET, longestFirst: true })),
  },
  {
    name: `Ceiling: whole corpus sorted by exact tokens, budget ${BUDGET}`,
    batches: planBatches(tokens, { minBatchSize: 1, batchSize: 64, parallelism: 2, maxBatchTokens: BUDGET, longestFirst: true }),
  },
].map(({ name, batches }) => ({
  name,
  batches: batches.length,
  ratio: padOf(batches) / realTokens,
  overBudget: overBudget(batches),
  maxPadded: Math.max(...batches.map((b) => b.length * Math.max(...b.map((i) => tokens[i])))),
}));
for (const p of padding) log(`padding ${p.ratio.toFixed(3)}× over ${p.batches} batches (${p.overBudget} over budget): ${p.name}`);

// ---------------------------------------------------------------------------------------------
// In-process: batch shapes, the ceiling per thread layout, padding, tokenization placement, int8.
const results = { machine, params: P, budget: BUDGET, corpus: corpusInfo, padding };

log('batch-shape sweep (2 workers × 1 thread, both busy)');
results.shapes = (await ceiling({ kind: 'shapes', workers: 2, threads: 1, seconds: P.shapeSeconds, shapes: P.shapes })).shapes;

results.layouts = [];
for (const [w, t] of P.layouts) {
  log(`ceiling ${w}×${t}`);
  const thr = await ceiling({ kind: 'corpus', workers: w, threads: t, size: P.size, reps: P.reps, feed: 'rows', order: 'planned', budget: BUDGET });
  const lat = await ceiling({
    kind: 'latency',
    workers: w,
    threads: t,
    iterations: P.latencyIterations,
    short: SHORT_TEXT,
    request: texts.slice(0, 32),
    budget: BUDGET,
  });
  results.layouts.push({ workers: w, threads: t, ...thr, latency: lat });
}
const best = pickBest(results.layouts);
log(`best layout ${best.workers}×${best.threads}: ${best.chunksPerS.toFixed(1)} chunks/s, ${best.cpuMsPerChunk.toFixed(1)} CPU ms per chunk`);

// Budget and per-batch overhead are chosen on the requests as the service plans them (each request
// of the HTTP mix on its own, estimated token counts), not on the whole corpus sorted at once.
log('budget sweep on the corpus (2×1, planned per request)');
results.budgets = [];
for (const budget of QUICK ? [BUDGET, 8192] : [256, 512, 1024, 2048, 4096, 8192, NO_BUDGET]) {
  const r = await ceiling({ kind: 'corpus', workers: 2, threads: 1, size: P.size, reps: P.reps, feed: 'rows', order: 'requests', budget });
  results.budgets.push({ budget, ...r });
}
log('batch overhead sweep (2×1, planned per request)');
results.overheads = [];
for (const overhead of QUICK ? [] : [0, DEFAULT_BATCH_OVERHEAD_TOKENS, 32, 128]) {
  const r = await ceiling({ kind: 'corpus', workers: 2, threads: 1, size: P.size, reps: P.reps, feed: 'rows', order: 'requests', budget: BUDGET, overhead });
  results.overheads.push({ overhead, ...r });
}

log('arrival order, fixed 32 (2×1)');
results.arrival32 = await ceiling({ kind: 'corpus', workers: 2, threads: 1, size: P.size, reps: 1, feed: 'rows', order: 'arrival32' });

log('tokenization placement (2×1)');
results.placement = {
  worker: await ceiling({ kind: 'corpus', workers: 2, threads: 1, size: P.size, reps: P.reps, feed: 'texts', order: 'planned', budget: BUDGET }),
  main: await ceiling({ kind: 'corpus', workers: 2, threads: 1, size: P.size, reps: P.reps, feed: 'main', order: 'planned', budget: BUDGET }),
};

log('int8 vs fp32');
results.int8 = {
  throughput: await ceiling({ kind: 'corpus', workers: best.workers, threads: best.threads, variant: 'int8', size: P.size, reps: P.reps, feed: 'rows', order: 'planned', budget: BUDGET }),
  quality: await ceiling({ kind: 'quality', workers: 1, threads: 1, variant: 'int8' }),
  fp32Quality: await ceiling({ kind: 'quality', workers: 1, threads: 1, variant: 'fp32' }),
};

// ---------------------------------------------------------------------------------------------
// The service over HTTP.
async function service(env, fn) {
  const s = await startChild(process.execPath, [`${ROOT}/dist/src/server.js`], {
    cwd: ROOT,
    env: { LOG_LEVEL: 'warn', EMBEDDING_API_KEY: '', ...env },
  });
  try {
    return { ...(await fn(s.url, s.pid)), peakRssMb: treePeakRssMb(s.pid) };
  } finally {
    await s.stop();
  }
}
/** Sums of the service's batch metrics (GET /metrics), for the profile: how busy the workers were. */
async function batchMetrics(url) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const total = (name) =>
      sum(text.split('\n').filter((l) => l.startsWith(name)).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1))));
    return {
      busyS: total('embedding_batch_duration_seconds_sum'),
      batches: total('embedding_batch_duration_seconds_count'),
    };
  } catch {
    return { busyS: NaN, batches: NaN };
  }
}
async function load(url, pid, concurrency, reps, workers = 2) {
  await drive(url, bodies.slice(0, 4), 2); // warm up
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const m0 = await batchMetrics(url);
    const run = await drive(url, bodies, concurrency, pid);
    const m1 = await batchMetrics(url);
    runs.push({ ...run, busyS: m1.busyS - m0.busyS, batches: m1.batches - m0.batches });
  }
  const lat = runs.flatMap((r) => r.latencies);
  return {
    concurrency,
    chunksPerS: median(runs.map((r) => corpus.length / r.wall)),
    tokensPerS: median(runs.map((r) => realTokens / r.wall)),
    perRep: runs.map((r) => corpus.length / r.wall),
    p50: percentile(lat, 50),
    p95: percentile(lat, 95),
    p99: percentile(lat, 99),
    clientCpuShare: median(runs.map((r) => r.clientCpuS / (r.wall * machine.cores))),
    cpuMsPerChunk: median(runs.map((r) => (r.serverCpuS * 1000) / corpus.length)),
    // Share of the run during which the workers had a batch in hand (from the service's own metrics).
    workerOccupancy: median(runs.map((r) => r.busyS / (r.wall * workers))),
    batches: median(runs.map((r) => r.batches)),
  };
}

results.service = [];
for (const [w, t] of P.layouts) {
  const isDefault = w === 2 && t === 1;
  if (QUICK && !isDefault) continue;
  log(`service ${w}×${t}`);
  const r = await service({ EMBEDDING_WORKERS: String(w), EMBEDDING_ONNX_THREADS: String(t) }, async (url, pid) => {
    const idle = await idleLatency(url, SHORT_TEXT, P.latencyIterations);
    const runs = [];
    for (const c of isDefault ? P.concurrencies : [4]) runs.push(await load(url, pid, c, isDefault && c === 4 ? P.reps : 1, w));
    return { idleShortP50: idle, runs };
  });
  results.service.push({ workers: w, threads: t, ...r });
}
log('service without a token budget (before)');
results.serviceNoBudget = await service({ EMBEDDING_WORKERS: '2', EMBEDDING_ONNX_THREADS: '1', EMBEDDING_MAX_BATCH_TOKENS: String(NO_BUDGET) }, async (url, pid) => ({
  runs: [await load(url, pid, 4, P.reps)],
}));

// (b)/(a) measured in alternation, each idle while the other runs (bench/paired.mjs).
log(`paired ceiling / service (2×1, 4 clients), ${P.pairs} pairs`);
results.paired = await child(`${ROOT}/bench/paired.mjs`, { size: P.size, pairs: P.pairs, latencyIterations: Math.max(P.latencyIterations, 50) });
log(`paired: service / ceiling ${(results.paired.ratio * 100).toFixed(1)}% (median of ${P.pairs} pairs)`);

// The floor under any HTTP answer on this machine: a bare node:http server that answers at once,
// driven by the same client as the idle short-chunk latency.
log('bare node:http round trip');
{
  const s = await startChild(process.execPath, ['-e', "require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.setHeader('content-type', 'application/json'); r.end('{}'); }); }).listen(Number(process.env.PORT), '127.0.0.1')"], { healthPath: '/' });
  try {
    results.httpFloorP50 = await idleLatency(s.url, SHORT_TEXT, P.latencyIterations);
  } finally {
    await s.stop();
  }
}

// JSON serialisation: the route's float formatter on this corpus's number of vectors.
{
  const v = new Float32Array(384 * 256).map((_, i) => Math.sin(i * 12.9898) * 0.1);
  for (let i = 0; i < 256; i++) vectorJson(v, i, 384);
  const s = performance.now();
  let n = 0;
  while (performance.now() - s < 500) for (let i = 0; i < 256; i++, n++) vectorJson(v, i, 384);
  const perChunkMs = (performance.now() - s) / n;
  const def = results.service.find((x) => x.workers === 2 && x.threads === 1)?.runs.find((x) => x.concurrency === 4);
  results.json = { perChunkMs, e2ePerChunkMs: def ? 1000 / def.chunksPerS : NaN, share: def ? perChunkMs / (1000 / def.chunksPerS) : NaN };
  log(`JSON: ${perChunkMs.toFixed(3)} ms per vector, ${(results.json.share * 100).toFixed(1)}% of end-to-end time per chunk`);
}

// ---------------------------------------------------------------------------------------------
// Peers.
results.peers = {};
if (PEERS && machine.transformersjs !== 'not installed') {
  log('peer: transformers.js');
  // One repetition takes a while; stop adding repetitions once the time budget is spent.
  const reps = [];
  const s = Date.now();
  while (reps.length < P.reps && (reps.length === 0 || (Date.now() - s) / 1000 < P.peerBudgetS * (reps.length / (reps.length + 1)))) {
    reps.push(await child(`${ROOT}/bench/peers/transformersjs/run.mjs`, { size: P.size, reps: 1, quantized: false }, `${ROOT}/bench/peers/transformersjs`));
  }
  results.peers.transformersjs = {
    chunksPerS: median(reps.map((r) => r.chunksPerS)),
    perRep: reps.map((r) => r.chunksPerS),
    cpuMsPerChunk: median(reps.map((r) => r.cpuMsPerChunk)),
    p50: median(reps.map((r) => r.p50)),
    p95: median(reps.map((r) => r.p95)),
    p99: median(reps.map((r) => r.p99)),
    peakRssMb: Math.max(...reps.map((r) => r.peakRssMb)),
  };
} else log('peer: transformers.js not installed (npm run bench:peers:setup); skipped');
if (PEERS && pyVersions) {
  log('peer: Python original design');
  const s = await startChild(PY, [`${ROOT}/bench/peers/python/server.py`, '--port', '{port}'], { cwd: ROOT, env: { MODEL_DIR } });
  try {
    const idle = await idleLatency(s.url, SHORT_TEXT, P.latencyIterations);
    const run = await load(s.url, s.pid, 4, P.reps, 1);
    results.peers.python = { ...run, idleShortP50: idle, peakRssMb: treePeakRssMb(s.pid) };
  } finally {
    await s.stop();
  }
} else log('peer: Python venv missing (npm run bench:peers:setup); skipped');

results.elapsedS = (Date.now() - started) / 1000;
Object.assign(results, { best, command: COMMAND, quick: QUICK, requests: requests.length, finishedAt: new Date().toISOString() });
rmSync(jobDir, { recursive: true, force: true });
writeFileSync(`${ROOT}/bench/.last-run.json`, JSON.stringify(results, null, 2));
const section = render(results);
if (WRITE) {
  writeSection(OUT, section);
  log(`wrote ${OUT}`);
} else process.stdout.write(section);
log(`done in ${results.elapsedS.toFixed(0)} s`);

// ---------------------------------------------------------------------------------------------
/**
 * Share of all cores busy over `ms` before anything starts: what else is running now. The load
 * average cannot tell: it decays over minutes, so work that ended seconds ago still counts.
 */
async function cpuBusyShare(ms) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3] + f[4], total: f.reduce((x, y) => x + y, 0) };
  };
  try {
    const a = read();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const b = read();
    return 1 - (b.idle - a.idle) / (b.total - a.total);
  } catch {
    return null;
  }
}

/**
 * The ceiling is the layout that ran the corpus fastest: the practical limit, and the strictest bar
 * for the service. (Least CPU per chunk was the rule before; CPU time swings with other tenants as
 * much as wall time does here.)
 */
function pickBest(layouts) {
  return layouts.reduce((a, b) => (b.chunksPerS > a.chunksPerS ? b : a));
}


function writeSection(file, body) {
  const START = '<!-- bench:start -->';
  const END = '<!-- bench:end -->';
  const block = `${START}\n${body.trim()}\n${END}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a !== -1 && b > a) text = text.slice(0, a) + block + text.slice(b + END.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

function render(r) {
  const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
  const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '–');
  const L = [];
  const svcDefault = r.service.find((x) => x.workers === 2 && x.threads === 1);
  const svc4 = svcDefault?.runs.find((x) => x.concurrency === 4);
  const svcBest = svcDefault?.runs.filter((x) => x.concurrency >= 4).reduce((a, b) => (b.chunksPerS > a.chunksPerS ? b : a), { chunksPerS: -1 });
  const a = r.best;
  const tjs = r.peers.transformersjs;
  const py = r.peers.python;
  const lat21 = r.layouts.find((l) => l.workers === 2 && l.threads === 1)?.latency;
  const ortShort = Math.min(...r.layouts.map((l) => l.latency.shortWithTokenizeP50));
  const ortShortLayout = r.layouts.find((l) => l.latency.shortWithTokenizeP50 === ortShort);

  L.push('## Throughput and latency (issue 5)');
  L.push('');
  L.push(`Generated by \`${r.command}\` (${r.quick ? '**quick smoke run: small corpus, one repetition; not for quoting**' : `median of ${r.params.reps} repetitions`}) on ${r.finishedAt.slice(0, 16).replace('T', ' ')} UTC, in ${f0(r.elapsedS)} s.`);
  const busy = r.machine.busyAtStart;
  L.push(`Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memGiB} GiB; load average at start ${r.machine.load}${typeof busy === 'number' ? `; CPU busy in the 3 s before the first measurement ${pct(busy)}` : ''}.`);
  // Without the busy sample (older runs), the load average stands in.
  if (typeof busy === 'number' ? busy > 0.25 : Number(r.machine.load.split(' ')[0]) > r.machine.cores * 0.5) {
    L.push('');
    L.push(`**Other work was running on the machine when this ran (${typeof busy === 'number' ? `${pct(busy)} of the CPU busy just before the start` : `load average ${r.machine.load.split(' ')[0]} on ${r.machine.cores} cores`}): the chunks/s and latency figures are provisional and swing between configurations; read the CPU ms per chunk columns, and re-run \`npm run bench\` on an idle machine before quoting.**`);
    L.push('');
  }
  L.push(`Versions: Node ${r.machine.node}, onnxruntime-node ${r.machine.ort}; peers: @xenova/transformers ${r.machine.transformersjs} (its onnxruntime-node ${r.machine.tjsOrt})` +
    (r.machine.python ? `, Python ${r.machine.python[0]} with onnxruntime ${r.machine.python[1]}, FastAPI ${r.machine.python[2]}, tokenizers ${r.machine.python[3]}.` : '; Python peer not installed.'));
  L.push(`Model: all-MiniLM-L6-v2, fp32 unless stated, 256-token truncation everywhere. Token budget under test: ${r.budget} (\`EMBEDDING_MAX_BATCH_TOKENS\` default${r.budget === DEFAULT_MAX_BATCH_TOKENS ? '' : ` when this ran; the default is now ${DEFAULT_MAX_BATCH_TOKENS}, chosen from the budget table below: run \`npm run bench\` again to measure with it`}).`);
  L.push('');
  L.push('### Corpus');
  L.push('');
  L.push(`${r.corpus.chunks} chunks (\`bench/corpus.mjs\`, fixed seed): ${r.corpus.code} code chunks of 4–40 lines from \`typescript/lib/typescript.js\` and \`@types/node/**/*.d.ts\`, ` +
    `${r.corpus.prose} prose chunks of 4–24 lines from the markdown files over 4 KB of a fixed list of packages in \`node_modules\` (express, pino, piscina, zod, ava, …); ${f0(r.corpus.realTokens)} real tokens, mean ${f0(r.corpus.meanTokens)}, ${r.corpus.truncated} truncated at 256. ` +
    `Requests for the HTTP runs cycle through sizes 1, 8, 32, 3, 64, 16, 100, 5, 24, 48 chunks (${r.requests} requests).`);
  L.push('');
  L.push('| tokens | ' + r.corpus.histogram.map((h) => (h.lo === h.hi ? `${h.hi}` : `${h.lo}–${h.hi}`)).join(' | ') + ' |');
  L.push('|---|' + r.corpus.histogram.map(() => '---:').join('|') + '|');
  L.push('| chunks | ' + r.corpus.histogram.map((h) => h.count).join(' | ') + ' |');
  L.push('');
  L.push(`Characters per word piece (untruncated chunks): code median ${f2(r.corpus.charStats.code.p50)} (5th percentile ${f2(r.corpus.charStats.code.p5)}), prose median ${f2(r.corpus.charStats.prose.p50)} (5th percentile ${f2(r.corpus.charStats.prose.p5)}): too far apart for characters alone to rank chunks by tokens. The planner's estimate (BERT's pre-tokenizer split, words cut into ${WORD_PIECE_CHARS}-character pieces) is ${f2(r.corpus.estimate.p50)}× the real count at the median (5th percentile ${f2(r.corpus.estimate.p5)}×, 95th ${f2(r.corpus.estimate.p95)}×) and costs ${r.corpus.estimate.msPerChunk.toFixed(3)} ms per chunk on the main thread, against ${f2(r.corpus.tokenizeMsPerChunk)} ms for the real tokenizer.`);
  L.push('');
  L.push('### Summary: service vs ceiling vs peers');
  L.push('');
  L.push('| configuration | chunks/s | tokens/s | p50 ms | p95 ms | p99 ms | CPU ms per chunk | peak RSS MB |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  L.push(`| (a) ceiling: onnxruntime-node in process, pre-tokenized, sorted, fastest layout ${a.workers}×${a.threads} (latency per batch) | ${f1(a.chunksPerS)} | ${f0(a.tokensPerS)} | ${f0(a.p50)} | ${f0(a.p95)} | ${f0(a.p99)} | ${f1(a.cpuMsPerChunk)} | ${f0(a.peakRssMb)} |`);
  for (const run of svcDefault?.runs ?? []) {
    L.push(`| (b) this service over HTTP, 2×1, ${run.concurrency} client${run.concurrency > 1 ? 's' : ''} | ${f1(run.chunksPerS)} | ${f0(run.tokensPerS)} | ${f0(run.p50)} | ${f0(run.p95)} | ${f0(run.p99)} | ${f1(run.cpuMsPerChunk)} | ${f0(svcDefault.peakRssMb)} |`);
  }
  const nb = r.serviceNoBudget?.runs[0];
  if (nb) L.push(`| (b′) the same without a token budget, 4 clients | ${f1(nb.chunksPerS)} | ${f0(nb.tokensPerS)} | ${f0(nb.p50)} | ${f0(nb.p95)} | ${f0(nb.p99)} | ${f1(nb.cpuMsPerChunk)} | ${f0(r.serviceNoBudget.peakRssMb)} |`);
  if (tjs) L.push(`| (c) transformers.js pipeline in process, defaults, one request at a time | ${f1(tjs.chunksPerS)} | ${f0((tjs.chunksPerS * r.corpus.realTokens) / r.corpus.chunks)} | ${f0(tjs.p50)} | ${f0(tjs.p95)} | ${f0(tjs.p99)} | ${f1(tjs.cpuMsPerChunk)} | ${f0(tjs.peakRssMb)} |`);
  if (py) L.push(`| (c) Python original design (FastAPI, batch 32, arrival order) over HTTP, 4 clients | ${f1(py.chunksPerS)} | ${f0(py.tokensPerS)} | ${f0(py.p50)} | ${f0(py.p95)} | ${f0(py.p99)} | ${f1(py.cpuMsPerChunk)} | ${f0(py.peakRssMb)} |`);
  L.push('');
  L.push(`CPU ms per chunk is the process's user + system time (all threads) over the run divided by the chunks. It leaves out time spent waiting for a core, but on this host it still moves about as much as chunks/s from run to run (other tenants slow the cores themselves); on an idle machine with both cores busy chunks/s ≈ ${r.machine.cores} × 1000 / (CPU ms per chunk). For the service it counts the server process only; the HTTP load generator, on the same cores, used ${svc4 ? (svc4.clientCpuShare * 100).toFixed(1) : '–'}% of the machine's CPU during the 4-client runs.`);
  L.push('');
  L.push('### Targets');
  L.push('');
  L.push('| target | measured | met |');
  L.push('|---|---|---|');
  const ratioA = svcBest ? svcBest.chunksPerS / a.chunksPerS : NaN;
  const cpuA = svcBest ? a.cpuMsPerChunk / svcBest.cpuMsPerChunk : NaN;
  if (r.paired) {
    const p = r.paired;
    const met = p.ratio >= 0.9;
    L.push(`| (b) ≥ 90% of (a) in chunks/s at ≥ 4 clients | **${pct(p.ratio)}**, median of ${p.pairs.length} alternating pairs at 4 clients (per pair: ${p.pairs.map((x) => pct(x.ratio)).join(', ')}; best run against best run ${pct(p.bestRatio)}); the separate runs above: ${pct(ratioA)} (${f1(svcBest?.chunksPerS)} at ${svcBest?.concurrency} clients vs ${f1(a.chunksPerS)}), by CPU per chunk ${pct(cpuA)} | ${met ? 'yes' : `no, ${pct(0.9 - p.ratio)} short`} |`);
  } else {
    L.push(`| (b) ≥ 90% of (a) in chunks/s at ≥ 4 clients | ${pct(ratioA)} (${f1(svcBest?.chunksPerS)} at ${svcBest?.concurrency} clients vs ${f1(a.chunksPerS)}); by CPU per chunk ${pct(cpuA)} | ${ratioA >= 0.9 ? 'yes' : `no, ${pct(0.9 - ratioA)} short`} |`);
  }
  if (tjs) {
    const x = svc4.chunksPerS / tjs.chunksPerS;
    L.push(`| (b) ≥ 3× transformers.js | ${f2(x)}× (by CPU per chunk ${f2(tjs.cpuMsPerChunk / svc4.cpuMsPerChunk)}×) | ${x >= 3 ? 'yes' : 'no'} |`);
  }
  if (py) {
    const x = svc4.chunksPerS / py.chunksPerS;
    L.push(`| (b) ≥ 1.5× the Python original design (4 clients each) | ${f2(x)}× (by CPU per chunk ${f2(py.cpuMsPerChunk / svc4.cpuMsPerChunk)}×) | ${x >= 1.5 ? 'yes' : 'no'} |`);
  }
  const idle = svcDefault?.idleShortP50;
  const short = lat21?.shortWithTokenizeP50;
  const pl = r.paired?.latency;
  if (pl) {
    const pairList = (x) => x.pairs.map((q) => `${f1(q.b)}/${f1(q.a)}`).join(', ');
    L.push(`| one short chunk (${pl.shortTokens} tokens), idle server, p50 ≤ 1.5× in-process onnxruntime (same 2×1 layout, tokenization included) | **${f2(pl.backToBack.ratio)}×**, median of ${pl.backToBack.pairs.length} alternating pairs of ${pl.iterations} requests each (service/in-process ms: ${pairList(pl.backToBack)}); against in-process runs paced ${pl.pauseMs} ms apart, as a worker behind HTTP idles between requests: ${f2(pl.paced.ratio)}×; the separate runs above: ${f2(idle)} ms vs ${f2(short)} ms, ${f2(idle / short)}× | ${pl.backToBack.ratio <= 1.5 ? 'yes' : 'no'} |`);
  } else {
    L.push(`| one short chunk (${lat21?.shortTokens} tokens), idle server, p50 ≤ 1.5× in-process onnxruntime (same 2×1 layout, tokenization included) | ${f2(idle)} ms vs ${f2(short)} ms: ${f2(idle / short)}× | ${idle / short <= 1.5 ? 'yes' : 'no'} |`);
  }
  const floor = r.httpFloorP50 + ortShort;
  L.push(`| the same under 10 ms | ${f2(idle)} ms${Number.isFinite(r.httpFloorP50) ? `; floor on this machine: a bare \`node:http\` server answers the same request in ${f2(r.httpFloorP50)} ms, plus ${f2(ortShort)} ms for the fastest in-process inference of the chunk (${ortShortLayout.workers}×${ortShortLayout.threads}) = ${f2(floor)} ms` : ''} | ${idle < 10 ? 'yes' : floor >= 10 ? 'no: below the floor is out of reach here' : 'no'} |`);
  L.push('');
  if (r.paired) {
    L.push(`Why pairs: the same configuration measured ±10% from one run to the next on this machine (the ceiling's own repetitions here: ${(r.best.perRep ?? []).map(f1).join(', ')} chunks/s), so a ratio of two medians taken minutes apart is mostly noise at the scale of this target. The paired figure runs the ceiling (in the bench process, pre-tokenized, whole corpus sorted) and the service (4 clients, the request mix) one after the other, alternating which goes first; the short-chunk latency is paired the same way (in process: the ceiling's 2×1 pool in the bench process; service: the same child server).`);
    L.push('');
  }
  if (svc4) {
    const servicePad = r.padding[2].ratio;
    const ceilingPad = r.padding[4].ratio;
    L.push('Where the service\'s time goes (2×1, 4 clients), against the ceiling:');
    L.push('');
    L.push(`- **Padding**: the service batches each request on its own, padding to ${f2(servicePad)}× the real tokens; the ceiling sorts the whole corpus at once (${f2(ceilingPad)}×): ${pct(servicePad / ceilingPad - 1)} more model work.`);
    L.push(`- **Tokenization** in the workers: ${f2(r.corpus.tokenizeMsPerChunk)} ms per chunk, ${pct(r.corpus.tokenizeMsPerChunk / a.cpuMsPerChunk)} of the ceiling's CPU per chunk.`);
    L.push(`- **Inference**: the workers had a batch in hand ${pct(svc4.workerOccupancy)} of the time (${f0(svc4.batches)} batches, from the service's \`embedding_batch_duration_seconds\`); the rest is queueing and dispatch: a worker waiting for the main thread to hand it the next batch, or for requests to arrive.`);
    L.push(`- **Serialisation** of the vectors to JSON: ${(r.json.share * 100).toFixed(2)}% of the wall time per chunk (below).`);
    L.push(`- **CPU per chunk**: ${f1(svc4.cpuMsPerChunk)} ms in the server process against ${f1(a.cpuMsPerChunk)} ms for the ceiling (HTTP, validation, request planning, result copies on top of inference).`);
    L.push('');
  }
  L.push(`In-process latency for that chunk, pre-tokenized: ${f2(lat21?.shortP50)} ms on one single-threaded session; the fastest layout for it is ${ortShortLayout.workers}×${ortShortLayout.threads} at ${f2(ortShort)} ms with tokenization.`);
  L.push('');
  if (r.machine.gemmGflopsPerCore) {
    // Dense work per token: 6 layers × 2 × (4·384² + 2·384·1536) multiply-adds; attention adds 4·seq·384 per layer.
    const denseFlops = 6 * 2 * (4 * 384 * 384 + 2 * 384 * 1536);
    const attention = (seq) => 6 * 4 * seq * 384;
    const perToken = denseFlops + attention(r.corpus.meanTokens);
    const achieved = (a.tokensPerS * perToken) / 1e9 / r.machine.cores;
    const shortFlops = lat21.shortTokens * (denseFlops + attention(lat21.shortTokens));
    const floorOne = (shortFlops / (r.machine.gemmGflopsPerCore * 1e9)) * 1000;
    L.push(`**What this CPU can do.** ${r.machine.cpu}. One core multiplies fp32 matrices at ${f1(r.machine.gemmGflopsPerCore)} GFLOP/s (numpy/OpenBLAS, 1024³, one thread). The model costs ${f1(perToken / 1e6)} MFLOP per token at this corpus's mean length, so the ceiling's ${f0(a.tokensPerS)} tokens/s is ${f1(achieved)} GFLOP/s per core, ${pct(achieved / r.machine.gemmGflopsPerCore)} of the matrix-multiply speed${achieved / r.machine.gemmGflopsPerCore >= 0.7 ? ': onnxruntime is already near what the hardware gives' : ''}. At full matrix-multiply speed on both cores this CPU would do ${f0((2 * r.machine.gemmGflopsPerCore * 1e9) / perToken)} tokens/s; the issue's 8,000 tokens/s was measured on another CPU (Zen 4, AVX-512)${(2 * r.machine.gemmGflopsPerCore * 1e9) / perToken < 8000 ? ' and is beyond this one' : ''}. The same arithmetic bounds the short chunk: ${lat21.shortTokens} tokens are ${f0(shortFlops / 1e6)} MFLOP, ${f1(floorOne)} ms on one core at full matrix-multiply speed and ${f1(floorOne / 2)} ms on two, before any overhead: inference alone within 10 ms ${floorOne > 10 ? 'is out of reach for one core even at peak speed' : `takes ${pct(floorOne / 10)} of one core's peak`} and takes ${pct(floorOne / 20)} of peak from both cores on one request, while a lone small matrix product runs well below peak and the request still needs HTTP, tokenization and pooling.`);
  }
  L.push('');
  L.push('### Thread layout (workers × intra-op threads)');
  L.push('');
  L.push('| layout | in-process chunks/s | tokens/s | CPU ms per chunk | peak RSS MB | short chunk p50 ms | 32-chunk request p50 ms | service chunks/s (4 clients) | service idle short p50 ms | service peak RSS MB |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of r.layouts) {
    const s = r.service.find((x) => x.workers === l.workers && x.threads === l.threads);
    const s4 = s?.runs.find((x) => x.concurrency === 4);
    L.push(`| ${l.workers}×${l.threads} | ${f1(l.chunksPerS)} | ${f0(l.tokensPerS)} | ${f1(l.cpuMsPerChunk)} | ${f0(l.peakRssMb)} | ${f2(l.latency.shortWithTokenizeP50)} | ${f0(l.latency.requestP50)} | ${f1(s4?.chunksPerS)} | ${f2(s?.idleShortP50)} | ${f0(s?.peakRssMb)} |`);
  }
  L.push('');
  L.push('### Batch shape (2 workers × 1 thread, both running the same shape)');
  L.push('');
  L.push('| rows × seq | padded tokens | tokens/s | ms per batch | CPU ms per 1,000 tokens |');
  L.push('|---|---:|---:|---:|---:|');
  for (const s of r.shapes) L.push(`| ${s.rows} × ${s.seq} | ${s.tokens} | ${f0(s.tokensPerS)} | ${f0(s.msPerBatch)} | ${f1(s.cpuMsPer1kTokens)} |`);
  L.push('');
  L.push('### Token budget and batch overhead (2×1, pre-tokenized, each request of the HTTP mix planned as the service plans it)');
  L.push('');
  L.push(`Medians of ${r.params.reps} repetitions; the overhead rows use budget ${r.budget}. Padding is padded / real tokens of the batches that ran. *Quiet inference ms per chunk* sums each batch's fastest run over the repetitions (interference only lengthens a batch), divided by the chunks: the column the decisions below are read from, as it moves far less from run to run than chunks/s or CPU time.`);
  L.push('');
  L.push('| EMBEDDING_MAX_BATCH_TOKENS | overhead per batch (tokens) | batches | padding | chunks/s | real tokens/s | CPU ms per chunk | quiet inference ms per chunk | peak RSS MB |');
  L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const b of r.budgets) L.push(`| ${b.budget === NO_BUDGET ? 'none' : b.budget} | ${DEFAULT_BATCH_OVERHEAD_TOKENS} | ${b.batches} | ${f2(b.padded / b.realTokens)} | ${f1(b.chunksPerS)} | ${f0(b.tokensPerS)} | ${f1(b.cpuMsPerChunk)} | ${f1(b.quietInferMsPerChunk)} | ${f0(b.peakRssMb)} |`);
  for (const o of r.overheads ?? []) L.push(`| ${r.budget} | ${o.overhead} | ${o.batches} | ${f2(o.padded / o.realTokens)} | ${f1(o.chunksPerS)} | ${f0(o.tokensPerS)} | ${f1(o.cpuMsPerChunk)} | ${f1(o.quietInferMsPerChunk)} | ${f0(o.peakRssMb)} |`);
  L.push('');
  L.push('### Padding (padded tokens / real tokens)');
  L.push('');
  L.push(`| batching | batches | padding ratio | batches over ${r.budget} real padded tokens | largest batch, padded tokens |`);
  L.push('|---|---:|---:|---:|---:|');
  for (const p of r.padding) L.push(`| ${p.name} | ${p.batches} | ${f2(p.ratio)} | ${p.overBudget} | ${f0(p.maxPadded)} |`);
  L.push('');
  const sorted21 = r.layouts.find((l) => l.workers === 2 && l.threads === 1);
  L.push(`Measured (2×1, pre-tokenized): the corpus in arrival order, fixed batches of 32, ran at ${f1(r.arrival32.chunksPerS)} chunks/s and ${f1(r.arrival32.cpuMsPerChunk)} CPU ms per chunk (padding ${f2(r.arrival32.padded / r.arrival32.realTokens)}×), against ${f1(sorted21?.chunksPerS)} chunks/s and ${f1(sorted21?.cpuMsPerChunk)} CPU ms sorted with the budget: ${f2(sorted21?.chunksPerS / r.arrival32.chunksPerS)}× the throughput, ${f2(r.arrival32.cpuMsPerChunk / sorted21?.cpuMsPerChunk)}× less CPU.`);
  L.push('');
  L.push('### Tokenization placement (2×1, same batches)');
  L.push('');
  L.push('| where | chunks/s | CPU ms per chunk | tokenization, ms total | main-thread blocking, ms total |');
  L.push('|---|---:|---:|---:|---:|');
  L.push(`| pre-tokenized (ceiling) | ${f1(sorted21?.chunksPerS)} | ${f1(sorted21?.cpuMsPerChunk)} | – | – |`);
  L.push(`| in the worker, beside inference (the service) | ${f1(r.placement.worker.chunksPerS)} | ${f1(r.placement.worker.cpuMsPerChunk)} | ${f0(r.placement.worker.workerTokenizeMs)} | 0 |`);
  L.push(`| on the main thread, ids sent to the worker | ${f1(r.placement.main.chunksPerS)} | ${f1(r.placement.main.cpuMsPerChunk)} | ${f0(r.placement.main.mainTokenizeMs)} | ${f0(r.placement.main.mainTokenizeMs)} |`);
  L.push('');
  L.push(`Tokenizing costs ${f2(r.corpus.tokenizeMsPerChunk)} ms per chunk on one core (${f0(r.corpus.tokenizeTokensPerS)} tokens/s), against ${f1(sorted21?.cpuMsPerChunk)} CPU ms per chunk for inference (${pct(r.corpus.tokenizeMsPerChunk / sorted21?.cpuMsPerChunk)}).`);
  L.push('');
  L.push('### int8 vs fp32');
  L.push('');
  L.push('| graph | chunks/s (in process, sorted) | tokens/s | CPU ms per chunk | peak RSS MB | cosine to sentence-transformers: min / median / mean | texts < 0.99 |');
  L.push('|---|---:|---:|---:|---:|---|---:|');
  const fq = r.int8.fp32Quality;
  const iq = r.int8.quality;
  L.push(`| fp32 | ${f1(a.chunksPerS)} | ${f0(a.tokensPerS)} | ${f1(a.cpuMsPerChunk)} | ${f0(a.peakRssMb)} | ${fq.min.toFixed(6)} / ${fq.median.toFixed(6)} / ${fq.mean.toFixed(6)} | ${fq.below099} of ${fq.texts} |`);
  L.push(`| int8 | ${f1(r.int8.throughput.chunksPerS)} | ${f0(r.int8.throughput.tokensPerS)} | ${f1(r.int8.throughput.cpuMsPerChunk)} | ${f0(r.int8.throughput.peakRssMb)} | ${iq.min.toFixed(4)} / ${iq.median.toFixed(4)} / ${iq.mean.toFixed(4)} | ${iq.below099} of ${iq.texts} |`);
  L.push('');
  L.push('### JSON serialisation');
  L.push('');
  L.push(`Formatting one 384-float vector as JSON (\`vectorJson\`, shortest round-trip decimals) takes ${r.json.perChunkMs.toFixed(3)} ms; at the service's 4-client throughput a chunk costs ${f2(r.json.e2ePerChunkMs)} ms of wall time on 2 cores, so serialisation is ${(r.json.share * 100).toFixed(2)}% of it (${r.json.share > 0.05 ? 'above' : 'below'} the 5% bar).`);
  L.push('');
  L.push('### Decisions taken from these figures');
  L.push('');
  const byBudget = (x) => r.budgets.find((b) => b.budget === x);
  const noCap = byBudget(NO_BUDGET) ?? r.budgets[r.budgets.length - 1];
  const cur = byBudget(r.budget);
  // Older runs lack the quiet figure; CPU time was read then.
  const cost = (x) => x.quietInferMsPerChunk ?? x.cpuMsPerChunk;
  const costName = r.budgets[0]?.quietInferMsPerChunk === undefined ? 'CPU ms per chunk' : 'Quiet inference ms per chunk';
  const cheapest = Math.min(...r.budgets.map(cost));
  const pointsTo = r.budgets.filter((b) => cost(b) <= cheapest * 1.03).reduce((x, b) => (b.budget > x.budget ? b : x)).budget;
  L.push(
    `- **\`EMBEDDING_MAX_BATCH_TOKENS\` = ${DEFAULT_MAX_BATCH_TOKENS}.** ${costName} on the corpus (2×1) by budget: ` +
      r.budgets.map((b) => `${b.budget === NO_BUDGET ? 'none' : b.budget} → ${f1(cost(b))}`).join(', ') +
      `; peak RSS ${f0(cur?.peakRssMb)} MB at ${r.budget} against ${f0(noCap?.peakRssMb)} MB ${noCap?.budget === NO_BUDGET ? 'without a cap' : `at ${noCap?.budget}`}. The largest budget within 3% of the cheapest is ${pointsTo === NO_BUDGET ? 'no cap' : pointsTo}` +
      (pointsTo === DEFAULT_MAX_BATCH_TOKENS ? ', the default.' : `; the default (${DEFAULT_MAX_BATCH_TOKENS}) differs, so re-check on a quiet machine before changing it (larger batches also hold more memory).`) +
      ' Wall-clock chunks/s and CPU time both move with whatever else runs on the host; the quiet figure much less.',
  );
  if (r.overheads?.length) {
    L.push(
      `- **${DEFAULT_BATCH_OVERHEAD_TOKENS} tokens of overhead per batch** in the planner's cost (\`DEFAULT_BATCH_OVERHEAD_TOKENS\`). ${costName} by overhead: ` +
        r.overheads.map((o) => `${o.overhead} → ${f1(cost(o))} (${o.batches} batches, padding ${f2(o.padded / o.realTokens)}×)`).join(', ') +
        '. On this corpus of mostly long chunks the differences are small; a small positive value keeps short chunks together, where a batch of one would pay a full pass over the weights for a few tokens.',
    );
  }
  L.push(`- **Token counts estimated, not tokenized on the main thread.** Exact counts would pad ${f2(r.padding[3].ratio)}× instead of ${f2(r.padding[2].ratio)}×, a ${pct(r.padding[2].ratio / r.padding[3].ratio - 1)} saving, while tokenizing once more on the main thread costs ${f2(r.corpus.tokenizeMsPerChunk)} ms per chunk (${pct(r.corpus.tokenizeMsPerChunk / a.cpuMsPerChunk)} of the inference CPU) and blocks the event loop for that long, a minute and more for a 50,000-chunk request. The estimate runs ${f0(r.corpus.tokenizeMsPerChunk / r.corpus.estimate.msPerChunk)}× faster; it overshoots more often than it undershoots, so batches rarely pass the budget (${r.padding[2].overBudget} of ${r.padding[2].batches} did here, the largest at ${f0(r.padding[2].maxPadded)} padded tokens). The planner before this one sorted by characters (2.5 per piece) and split each request evenly before cutting to the budget: 1.10× padding on this corpus (run of 2026-11-25).`);
  const l12 = r.layouts.find((l) => l.workers === 1 && l.threads === 2);
  const l21 = r.layouts.find((l) => l.workers === 2 && l.threads === 1);
  if (l12 && l21) {
    L.push(`- **Default layout 2 workers × 1 thread** (workers = cores). It costs ${f1(l21.cpuMsPerChunk)} CPU ms per chunk against ${f1(l12.cpuMsPerChunk)} for one two-thread session, and ran the corpus at ${f1(l21.chunksPerS)} against ${f1(l12.chunksPerS)} chunks/s. A lone 32-chunk request took ${f0(l21.latency.requestP50)} ms split over two sessions and ${f0(l12.latency.requestP50)} ms on one two-thread session; \`EMBEDDING_WORKERS=1\` (threads follow) is the setting for when single-request latency matters more than throughput. More workers than cores add memory (peak RSS column) and no throughput.`);
  }
  L.push(`- **Tokenization stays in the workers**: the same batches cost ${f1(r.placement.worker.cpuMsPerChunk)} CPU ms per chunk tokenized in the workers and ${f1(r.placement.main.cpuMsPerChunk)} tokenized on the main thread; the main thread is better kept for HTTP.`);
  L.push(`- **JSON stays as it is**: serialisation is ${(r.json.share * 100).toFixed(2)}% of the end-to-end time per chunk, far under the 5% at which the issue asks for a cheaper encoding (\`/v1/embeddings\` already offers base64).`);
  L.push(`- **int8 stays opt-in**: ${f2(a.cpuMsPerChunk / r.int8.throughput.cpuMsPerChunk)}× less CPU per chunk than fp32, but ${r.int8.quality.below099} of ${r.int8.quality.texts} reference texts fall below cosine 0.99 (lowest ${r.int8.quality.min.toFixed(4)}).`);
  L.push(`- **Chunks of concurrent requests do not share batches.** Per-request batching pads ${f2(r.padding[2].ratio)}× against ${f2(r.padding[4].ratio)}× for the whole corpus sorted at once; merging requests would close part of that gap but tie a small request's latency to a large one's batches and would need the scheduler to split results across requests. Not done; the figure above is the most it could gain.`);
  return L.join('\n') + '\n';
}
