/**
 * In-process measurements with onnxruntime-node and no HTTP, run as a child process per job so each
 * job's peak RSS is its own. Usage: node bench/ceiling.mjs '<job json>'; prints one JSON line.
 *
 * Jobs:
 *   corpus   — the corpus through a pool of workers × threads; feed 'rows' (pre-tokenized, the
 *              ceiling), 'texts' (tokenized in the worker, as the service does) or 'main' (tokenized
 *              on the main thread during the run); order 'planned' (length-sorted, token budget,
 *              longest first), 'requests' (each request of the HTTP mix planned on its own from
 *              estimated token counts, as the service plans) or 'arrival32' (fixed 32 in arrival
 *              order, padded to the longest); optional overhead (batchOverheadTokens) and spin
 *              (intra-op threads busy-wait, onnxruntime's default).
 *   shapes   — fixed [rows, seq] batches on every worker at once, for the batch-shape sweep.
 *   latency  — one short chunk and one 32-chunk request, sequentially, many times.
 *   quality  — cosine of each reference text's vector to the sentence-transformers vector.
 */
import { readFileSync } from 'node:fs';
import { buildCorpus, ROOT } from './corpus.mjs';
import { OrtPool, MODEL_DIR } from './lib/ort-pool.mjs';
import { planAsService } from './lib/mix.mjs';
import { median, percentile, peakRssMb, sum } from './lib/stats.mjs';

const { ModelTokenizer } = await import(`${ROOT}/dist/src/workers/thread/tokenizer.js`);
const { planBatches, estimateTokens } = await import(`${ROOT}/dist/src/core/planner.js`);

const job = JSON.parse(process.argv[2].startsWith("{") ? process.argv[2] : readFileSync(process.argv[2], "utf8"));
const tokenizer = ModelTokenizer.fromFile(`${MODEL_DIR}/tokenizer.json`);
const pool = await OrtPool.start({ workers: job.workers, threads: job.threads, variant: job.variant ?? 'fp32', spin: job.spin ?? true });

function planCorpus(corpus, rows, order, budget, maxBatch, workers) {
  if (order === 'arrival32') {
    const out = [];
    for (let i = 0; i < rows.length; i += 32) out.push(Array.from({ length: Math.min(32, rows.length - i) }, (_, k) => i + k));
    return out;
  }
  const options = { batchSize: maxBatch, parallelism: workers, maxBatchTokens: budget, longestFirst: true, ...(job.overhead === undefined ? {} : { batchOverheadTokens: job.overhead }) };
  if (order === 'requests') {
    return planAsService(corpus, { planBatches, estimateTokens }, options);
  }
  return planBatches(
    rows.map((r) => r.length),
    { ...options, minBatchSize: 1 },
  );
}

async function corpusJob() {
  const corpus = buildCorpus(job.size);
  const texts = corpus.map((c) => c.text);
  const rows = texts.map((t) => tokenizer.encode(t).ids);
  const realTokens = sum(rows.map((r) => r.length));
  const plan = planCorpus(corpus, rows, job.order ?? 'planned', job.budget, job.maxBatch ?? 64, job.workers);
  // Warm-up: a few batches on every worker.
  await Promise.all(plan.slice(0, job.workers * 2).map((b) => pool.run({ rows: b.map((i) => rows[i]) })));
  const reps = [];
  for (let r = 0; r < job.reps; r++) {
    let mainTokenizeMs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await Promise.all(
      plan.map((b) => {
        if (job.feed === 'texts') return pool.run({ texts: b.map((i) => texts[i]) });
        if (job.feed === 'main') {
          const s = performance.now();
          const ids = b.map((i) => tokenizer.encode(texts[i]).ids);
          mainTokenizeMs += performance.now() - s;
          return pool.run({ rows: ids });
        }
        return pool.run({ rows: b.map((i) => rows[i]) });
      }),
    );
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    reps.push({
      wall,
      cpuMsPerChunk: (cpu.user + cpu.system) / 1000 / texts.length,
      chunksPerS: texts.length / wall,
      tokensPerS: realTokens / wall,
      batchMs: results.map((x) => x.wallMs),
      batchInferMs: results.map((x) => x.inferMs),
      inferMs: sum(results.map((x) => x.inferMs)),
      workerTokenizeMs: sum(results.map((x) => x.tokenizeMs)),
      mainTokenizeMs,
      padded: sum(results.map((x) => x.padded)),
    });
  }
  const best = reps.map((r) => r.chunksPerS);
  const batchMs = reps.flatMap((r) => r.batchMs);
  return {
    chunks: texts.length,
    realTokens,
    batches: plan.length,
    padded: reps[0].padded,
    chunksPerS: median(best),
    tokensPerS: median(reps.map((r) => r.tokensPerS)),
    perRep: best,
    cpuMsPerChunk: median(reps.map((r) => r.cpuMsPerChunk)),
    p50: percentile(batchMs, 50),
    p95: percentile(batchMs, 95),
    p99: percentile(batchMs, 99),
    inferMs: median(reps.map((r) => r.inferMs)),
    // Interference from other tenants only ever lengthens a batch, so each batch's fastest run over
    // the repetitions is its least disturbed one; summed, they compare configurations far more
    // steadily than a median of whole runs (the same batches, run after run, differ by ±10%).
    quietInferMsPerChunk: sum(plan.map((_, j) => Math.min(...reps.map((r) => r.batchInferMs[j])))) / texts.length,
    workerTokenizeMs: median(reps.map((r) => r.workerTokenizeMs)),
    mainTokenizeMs: median(reps.map((r) => r.mainTokenizeMs)),
  };
}

async function shapesJob() {
  const out = [];
  const idsOf = (rowsN, seq) =>
    Array.from({ length: rowsN }, (_, r) => [101, ...Array.from({ length: seq - 2 }, (_, t) => 1000 + ((r * 7919 + t * 104729) % 28000)), 102]);
  // One warm-up round; every shape then runs for `seconds` and at least one round.
  await Promise.all(Array.from({ length: job.workers }, () => pool.run({ rows: idsOf(8, 64) })));
  for (const [rowsN, seq] of job.shapes) {
    const ids = idsOf(rowsN, seq);
    let runs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < job.seconds * 1000 || runs < job.workers) {
      await Promise.all(Array.from({ length: job.workers }, () => pool.run({ rows: ids })));
      runs += job.workers;
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    out.push({
      rows: rowsN,
      seq,
      tokens: rowsN * seq,
      tokensPerS: (runs * rowsN * seq) / wall,
      msPerBatch: (wall * 1000 * job.workers) / runs,
      cpuMsPer1kTokens: (cpu.user + cpu.system) / (runs * rowsN * seq),
    });
  }
  return { shapes: out };
}

async function latencyJob() {
  const short = job.short; // one short text
  const request = job.request; // a 32-chunk request
  const shortIds = tokenizer.encode(short).ids;
  const times = { shortPreTokenized: [], shortWithTokenize: [], request: [] };
  for (let i = 0; i < 5; i++) await pool.run({ rows: [shortIds] });
  for (let i = 0; i < job.iterations; i++) {
    let t0 = performance.now();
    await pool.run({ rows: [shortIds] });
    times.shortPreTokenized.push(performance.now() - t0);
    t0 = performance.now();
    await pool.run({ texts: [short] });
    times.shortWithTokenize.push(performance.now() - t0);
  }
  // Planned as the service plans a request: token counts estimated from the text.
  const plan = planBatches(request.map(estimateTokens), { minBatchSize: 8, batchSize: 64, parallelism: job.workers, maxBatchTokens: job.budget, longestFirst: true });
  for (let i = 0; i < Math.max(3, Math.round(job.iterations / 5)); i++) {
    const t0 = performance.now();
    await Promise.all(plan.map((b) => pool.run({ texts: b.map((k) => request[k]) })));
    times.request.push(performance.now() - t0);
  }
  return {
    shortTokens: shortIds.length,
    shortP50: percentile(times.shortPreTokenized, 50),
    shortWithTokenizeP50: percentile(times.shortWithTokenize, 50),
    requestP50: percentile(times.request, 50),
    requestBatches: plan.length,
  };
}

async function qualityJob() {
  const ref = JSON.parse(readFileSync(`${ROOT}/scripts/reference/reference.json`, 'utf8'));
  const items = ref.items ?? ref.texts ?? ref;
  const cos = [];
  for (const item of items) {
    const { vectors } = await pool.run({ texts: [item.text], wantVectors: true });
    const v = item.vector ?? item.embedding;
    let dot = 0, na = 0, nb = 0;
    for (let d = 0; d < v.length; d++) {
      dot += vectors[d] * v[d];
      na += vectors[d] * vectors[d];
      nb += v[d] * v[d];
    }
    cos.push(dot / Math.sqrt(na * nb));
  }
  const sorted = [...cos].sort((a, b) => a - b);
  return { texts: cos.length, min: sorted[0], median: median(cos), mean: sum(cos) / cos.length, below099: cos.filter((c) => c < 0.99).length };
}

const run = { corpus: corpusJob, shapes: shapesJob, latency: latencyJob, quality: qualityJob }[job.kind];
const result = await run();
await pool.close();
console.log(JSON.stringify({ ...result, peakRssMb: peakRssMb() }));
