/**
 * `npm run bench`: throughput and latency of this service against the machine's ceiling and two
 * peers, on a fixed real corpus. Measures, writes the raw results to bench/.last-run.json, then has
 * report/ render them into BENCHMARKS.md between <!-- bench:start --> and <!-- bench:end -->
 * (nothing else in the file is touched).
 *
 *   node dist/bench/run.js [--quick] [--no-peers] [--systems a,b] [--no-write] [--out FILE] [--size N] [--reps N]
 *   node dist/bench/run.js --render [--out FILE]   # the section from bench/.last-run.json, no measuring (as dist/bench/render.js)
 *
 * --quick is a ~2-minute smoke run (small corpus, one repetition); the full run is bounded at about
 * 12 minutes on 2 cores. Every in-process measurement runs in a child process of its own, so each
 * peak RSS is that configuration's alone.
 */
import { writeFileSync } from 'node:fs';
import { buildCorpus } from '../harness/corpus.js';
import { DEFAULT_BATCH_OVERHEAD_TOKENS, DEFAULT_MAX_BATCH_TOKENS } from '../src/core/planner.js';
import { ModelTokenizer } from '../src/workers/thread/tokenizer.js';
import type { CeilingJob, CorpusResult, LatencyResult, QualityResult, ShapesResult } from './ceiling/types.js';
import { idleLatency } from './lib/http.js';
import { requestMix, SHORT_TEXT } from './lib/mix.js';
import { TOKENIZER_PATH } from './lib/ort-pool.js';
import type { PairedJob, PairedReport } from './lib/paired.js';
import { tokenizeCorpus } from './measure/corpus-stats.js';
import { JobRunner } from './measure/jobs.js';
import { machineInfo } from './measure/machine.js';
import { httpFloorP50, vectorJsonMs } from './measure/micro.js';
import { paddingTable } from './measure/padding.js';
import { parseRunArgs } from './measure/params.js';
import { CEILING_SCRIPT, LAST_RUN, PAIRED_SCRIPT } from './measure/paths.js';
import { pythonPeer, transformersJs } from './measure/peers.js';
import { pickSystems, sideBySide, SYSTEMS } from './measure/systems.js';
import { loadRun, withService, type LoadMix } from './measure/service.js';
import { NO_BUDGET, pickBest, type BenchResults, type LayoutResult, type ServiceResult, type SystemsRun } from './report/results.js';
import { renderSavedRun, writeReport } from './report/write.js';

const options = parseRunArgs(process.argv.slice(2));
// --render: the section from bench/.last-run.json without measuring again.
if (options.render) {
  renderSavedRun(LAST_RUN, options);
  process.exit(0);
}
const P = options.params;
const QUICK = options.quick;
const BUDGET = DEFAULT_MAX_BATCH_TOKENS;

const started = Date.now();
const log = (...m: string[]) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m.join(' ')}\n`);
const jobs = new JobRunner();
const ceiling = <K extends CeilingJob['kind']>(job: Extract<CeilingJob, { kind: K }>) =>
  jobs.run<{ corpus: CorpusResult; shapes: ShapesResult; latency: LatencyResult; quality: QualityResult }[K]>(CEILING_SCRIPT, job);
const corpusJob = (job: Omit<Extract<CeilingJob, { kind: 'corpus' }>, 'kind' | 'size'>) => ceiling<'corpus'>({ kind: 'corpus', size: P.size, ...job });

// ---------------------------------------------------------------------------------------------
// Machine, versions, corpus
const machine = await machineInfo();
log(`machine: ${machine.cpu}, ${machine.cores} cores; node ${machine.node}; onnxruntime-node ${machine.ort}; load ${machine.load}`);

const corpus = buildCorpus(P.size);
const texts = corpus.map((c) => c.text);
const { info: corpusInfo, tokens } = tokenizeCorpus(corpus, ModelTokenizer.fromFile(TOKENIZER_PATH));
log(`corpus: ${corpus.length} chunks, ${corpusInfo.realTokens} tokens (mean ${corpusInfo.meanTokens.toFixed(0)}), ${corpusInfo.truncated} truncated; main-thread tokenization ${corpusInfo.tokenizeMsPerChunk.toFixed(2)} ms/chunk`);

const requests = requestMix(corpus);
const mix: LoadMix = { bodies: requests.map((r) => JSON.stringify(r)), chunks: corpus.length, realTokens: corpusInfo.realTokens, cores: machine.cores };
const padding = paddingTable(texts, tokens, requests, BUDGET);
for (const p of padding) log(`padding ${p.ratio.toFixed(3)}× over ${p.batches} batches (${p.overBudget} over budget): ${p.name}`);

// ---------------------------------------------------------------------------------------------
// In-process: batch shapes, the ceiling per thread layout, padding, tokenization placement, int8.
log('batch-shape sweep (2 workers × 1 thread, both busy)');
const shapes = (await ceiling<'shapes'>({ kind: 'shapes', workers: 2, threads: 1, seconds: P.shapeSeconds, shapes: P.shapes })).shapes;

const layouts: LayoutResult[] = [];
for (const [w, t] of P.layouts) {
  log(`ceiling ${w}×${t}`);
  const thr = await corpusJob({ workers: w, threads: t, reps: P.reps, feed: 'rows', order: 'planned', budget: BUDGET });
  const latency = await ceiling<'latency'>({ kind: 'latency', workers: w, threads: t, iterations: P.latencyIterations, short: SHORT_TEXT, request: texts.slice(0, 32), budget: BUDGET });
  layouts.push({ workers: w, threads: t, ...thr, latency });
}
const best = pickBest(layouts);
log(`best layout ${best.workers}×${best.threads}: ${best.chunksPerS.toFixed(1)} chunks/s, ${best.cpuMsPerChunk.toFixed(1)} CPU ms per chunk`);

// Budget and per-batch overhead are chosen on the requests as the service plans them (each request
// of the HTTP mix on its own, estimated token counts), not on the whole corpus sorted at once.
log('budget sweep on the corpus (2×1, planned per request)');
const budgets: BenchResults['budgets'] = [];
for (const budget of QUICK ? [BUDGET, 8192] : [256, 512, 1024, 2048, 4096, 8192, NO_BUDGET]) {
  budgets.push({ budget, ...(await corpusJob({ workers: 2, threads: 1, reps: P.reps, feed: 'rows', order: 'requests', budget })) });
}
log('batch overhead sweep (2×1, planned per request)');
const overheads: NonNullable<BenchResults['overheads']> = [];
for (const overhead of QUICK ? [] : [0, DEFAULT_BATCH_OVERHEAD_TOKENS, 32, 128]) {
  overheads.push({ overhead, ...(await corpusJob({ workers: 2, threads: 1, reps: P.reps, feed: 'rows', order: 'requests', budget: BUDGET, overhead })) });
}

log('arrival order, fixed 32 (2×1)');
const arrival32 = await corpusJob({ workers: 2, threads: 1, reps: 1, feed: 'rows', order: 'arrival32' });

log('tokenization placement (2×1)');
const placement = {
  worker: await corpusJob({ workers: 2, threads: 1, reps: P.reps, feed: 'texts', order: 'planned', budget: BUDGET }),
  main: await corpusJob({ workers: 2, threads: 1, reps: P.reps, feed: 'main', order: 'planned', budget: BUDGET }),
};

log('int8 vs fp32');
const int8 = {
  throughput: await corpusJob({ workers: best.workers, threads: best.threads, variant: 'int8', reps: P.reps, feed: 'rows', order: 'planned', budget: BUDGET }),
  quality: await ceiling<'quality'>({ kind: 'quality', workers: 1, threads: 1, variant: 'int8' }),
  fp32Quality: await ceiling<'quality'>({ kind: 'quality', workers: 1, threads: 1, variant: 'fp32' }),
};

// ---------------------------------------------------------------------------------------------
// The service over HTTP.
const service: ServiceResult[] = [];
for (const [w, t] of P.layouts) {
  const isDefault = w === 2 && t === 1;
  if (QUICK && !isDefault) continue;
  log(`service ${w}×${t}`);
  const r = await withService({ EMBEDDING_WORKERS: String(w), EMBEDDING_ONNX_THREADS: String(t) }, async (url, pid) => {
    const idle = await idleLatency(url, SHORT_TEXT, P.latencyIterations);
    const runs = [];
    for (const c of isDefault ? P.concurrencies : [4]) runs.push(await loadRun(mix, url, pid, c, isDefault && c === 4 ? P.reps : 1, w));
    return { idleShortP50: idle, runs };
  });
  service.push({ workers: w, threads: t, ...r });
}
log('service without a token budget (before)');
const serviceNoBudget = await withService({ EMBEDDING_WORKERS: '2', EMBEDDING_ONNX_THREADS: '1', EMBEDDING_MAX_BATCH_TOKENS: String(NO_BUDGET) }, async (url, pid) => ({
  runs: [await loadRun(mix, url, pid, 4, P.reps)],
}));

// (b)/(a) measured in alternation, each idle while the other runs (bench/paired.ts).
log(`paired ceiling / service (2×1, 4 clients), ${P.pairs} pairs`);
const paired = await jobs.run<PairedReport>(PAIRED_SCRIPT, { size: P.size, pairs: P.pairs, latencyIterations: Math.max(P.latencyIterations, 50) } satisfies PairedJob);
log(`paired: service / ceiling ${(paired.ratio * 100).toFixed(1)}% (median of ${P.pairs} pairs)`);

log('bare node:http round trip');
const httpFloor = await httpFloorP50(P.latencyIterations);

// JSON serialisation: the route's float formatter against the service's time per chunk at 4 clients.
const perChunkMs = vectorJsonMs();
const def = service.find((x) => x.workers === 2 && x.threads === 1)?.runs.find((x) => x.concurrency === 4);
const json = { perChunkMs, e2ePerChunkMs: def ? 1000 / def.chunksPerS : NaN, share: def ? perChunkMs / (1000 / def.chunksPerS) : NaN };
log(`JSON: ${perChunkMs.toFixed(3)} ms per vector, ${(json.share * 100).toFixed(1)}% of end-to-end time per chunk`);

// ---------------------------------------------------------------------------------------------
// Peers.
const peers: BenchResults['peers'] = {};
if (options.peers && machine.transformersjs !== 'not installed') {
  log('peer: transformers.js');
  peers.transformersjs = await transformersJs(jobs, P);
} else log('peer: transformers.js not installed (npm run bench:peers:setup); skipped');
if (options.peers && machine.python) {
  log('peer: Python original design');
  peers.python = await pythonPeer(mix, P);
} else log('peer: Python venv missing (npm run bench:peers:setup); skipped');

// The systems a user would pick instead (issue 16), side by side with the service in alternating rounds:
// the same corpus as 32-chunk requests (TEI's default client batch limit) from 4 clients, and a lone short text.
let systems: SystemsRun | undefined;
if (options.peers) {
  const asked = options.systems ? pickSystems(options.systems) : SYSTEMS;
  const skipped = asked.flatMap((s) => (s.missing() ? [{ name: s.name, why: s.missing()! }] : []));
  for (const s of skipped) log(`system ${s.name} skipped: ${s.why}`);
  const runnable = asked.filter((s) => !s.missing());
  // The ratios are to the service at its defaults: it runs whether asked for or not.
  if (!runnable.some((s) => s.name === 'service')) runnable.unshift(pickSystems(['service'])[0]!);
  const requestChunks = 32;
  const grouped: string[][] = [];
  for (let i = 0; i < texts.length; i += requestChunks) grouped.push(texts.slice(i, i + requestChunks));
  const rounds = P.peerRounds ?? 3;
  const loneIterations = P.peerLoneIterations ?? 200;
  log(`side by side: ${runnable.map((s) => s.name).join(', ')}; ${rounds} rounds`);
  const results = await sideBySide({
    systems: runnable,
    requests: grouped,
    realTokens: corpusInfo.realTokens,
    clients: 4,
    rounds,
    loneText: SHORT_TEXT,
    loneIterations,
    cores: machine.cores,
    log,
  });
  systems = { rounds, clients: 4, loneIterations, requestChunks, results, skipped };
}

jobs.close();
const results: BenchResults = {
  machine,
  params: P,
  budget: BUDGET,
  corpus: corpusInfo,
  padding,
  shapes,
  layouts,
  budgets,
  overheads,
  arrival32,
  placement,
  int8,
  service,
  serviceNoBudget,
  paired,
  httpFloorP50: httpFloor,
  json,
  peers,
  ...(systems ? { systems } : {}),
  elapsedS: (Date.now() - started) / 1000,
  best,
  command: options.command,
  quick: QUICK,
  requests: requests.length,
  finishedAt: new Date().toISOString(),
};
writeFileSync(LAST_RUN, JSON.stringify(results, null, 2));
writeReport(results, options);
log(`done in ${results.elapsedS.toFixed(0)} s`);
