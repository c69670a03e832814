/** The latency job: one short chunk and one 32-chunk request, one after another, many times. */
import { percentile } from '../../harness/stats.js';
import { estimateTokens, planBatches } from '../../src/core/planner.js';
import type { ModelTokenizer } from '../../src/workers/thread/tokenizer.js';
import type { OrtPool } from '../lib/ort-pool.js';
import type { LatencyJob, LatencyResult } from './types.js';

export async function latencyJob(job: LatencyJob, pool: OrtPool, tokenizer: ModelTokenizer): Promise<Omit<LatencyResult, 'peakRssMb'>> {
  const { short, request } = job;
  const shortIds = tokenizer.encode(short).ids;
  const times = { shortPreTokenized: [] as number[], shortWithTokenize: [] as number[], request: [] as number[] };
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
    await Promise.all(plan.map((b) => pool.run({ texts: b.map((k) => request[k]!) })));
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
