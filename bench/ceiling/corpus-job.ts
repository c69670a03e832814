/** The corpus job: throughput of a pool on the whole corpus, batched one of three ways, fed one of three ways. */
import { buildCorpus, type BenchChunk } from '../../harness/corpus.js';
import { median, percentile, sum } from '../../harness/stats.js';
import { planBatches } from '../../src/core/planner.js';
import type { ModelTokenizer } from '../../src/workers/thread/tokenizer.js';
import { planAsService } from '../lib/mix.js';
import type { OrtPool } from '../lib/ort-pool.js';
import type { CorpusJob, CorpusResult } from './types.js';

/** One repetition: the corpus once through the pool. */
interface Rep {
  wall: number;
  cpuMsPerChunk: number;
  chunksPerS: number;
  tokensPerS: number;
  batchMs: number[];
  batchInferMs: number[];
  inferMs: number;
  workerTokenizeMs: number;
  mainTokenizeMs: number;
  padded: number;
}

function planCorpus(job: CorpusJob, corpus: readonly BenchChunk[], rows: readonly number[][]): number[][] {
  const order = job.order ?? 'planned';
  if (order === 'arrival32') {
    const out: number[][] = [];
    for (let i = 0; i < rows.length; i += 32) out.push(Array.from({ length: Math.min(32, rows.length - i) }, (_, k) => i + k));
    return out;
  }
  const options = {
    batchSize: job.maxBatch ?? 64,
    parallelism: job.workers,
    ...(job.budget === undefined ? {} : { maxBatchTokens: job.budget }),
    longestFirst: true,
    ...(job.overhead === undefined ? {} : { batchOverheadTokens: job.overhead }),
  };
  if (order === 'requests') return planAsService(corpus, options);
  return planBatches(rows.map((r) => r.length), { ...options, minBatchSize: 1 });
}

export async function corpusJob(job: CorpusJob, pool: OrtPool, tokenizer: ModelTokenizer): Promise<Omit<CorpusResult, 'peakRssMb'>> {
  const corpus = buildCorpus(job.size);
  const texts = corpus.map((c) => c.text);
  const rows = texts.map((t) => tokenizer.encode(t).ids);
  const realTokens = sum(rows.map((r) => r.length));
  const plan = planCorpus(job, corpus, rows);
  // Warm-up: a few batches on every worker.
  await Promise.all(plan.slice(0, job.workers * 2).map((b) => pool.run({ rows: b.map((i) => rows[i]!) })));
  const reps: Rep[] = [];
  for (let r = 0; r < job.reps; r++) {
    let mainTokenizeMs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await Promise.all(
      plan.map((b) => {
        if (job.feed === 'texts') return pool.run({ texts: b.map((i) => texts[i]!) });
        if (job.feed === 'main') {
          const s = performance.now();
          const ids = b.map((i) => tokenizer.encode(texts[i]!).ids);
          mainTokenizeMs += performance.now() - s;
          return pool.run({ rows: ids });
        }
        return pool.run({ rows: b.map((i) => rows[i]!) });
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
  const perRep = reps.map((r) => r.chunksPerS);
  const batchMs = reps.flatMap((r) => r.batchMs);
  return {
    chunks: texts.length,
    realTokens,
    batches: plan.length,
    padded: reps[0]?.padded ?? NaN,
    chunksPerS: median(perRep),
    tokensPerS: median(reps.map((r) => r.tokensPerS)),
    perRep,
    cpuMsPerChunk: median(reps.map((r) => r.cpuMsPerChunk)),
    p50: percentile(batchMs, 50),
    p95: percentile(batchMs, 95),
    p99: percentile(batchMs, 99),
    inferMs: median(reps.map((r) => r.inferMs)),
    // Interference from other tenants only ever lengthens a batch, so each batch's fastest run over
    // the repetitions is its least disturbed one; summed, they compare configurations far more
    // steadily than a median of whole runs (the same batches, run after run, differ by ±10%).
    quietInferMsPerChunk: sum(plan.map((_, j) => Math.min(...reps.map((r) => r.batchInferMs[j]!)))) / texts.length,
    workerTokenizeMs: median(reps.map((r) => r.workerTokenizeMs)),
    mainTokenizeMs: median(reps.map((r) => r.mainTokenizeMs)),
  };
}
