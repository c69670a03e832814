/**
 * In-process measurements with onnxruntime-node and no HTTP, through the service's own inference
 * code (src/workers/thread/inference.ts) in a minimal worker pool, run as a child process per job so
 * each job's peak RSS is its own. Usage: node dist/bench/ceiling.js '<job json>' (or a file holding
 * it); prints one JSON line. The jobs are described in ceiling/types.ts.
 */
import { readFileSync } from 'node:fs';
import { peakRssMb } from '../harness/stats.js';
import { ModelTokenizer } from '../src/workers/thread/tokenizer.js';
import { corpusJob } from './ceiling/corpus-job.js';
import { latencyJob } from './ceiling/latency-job.js';
import { qualityJob } from './ceiling/quality-job.js';
import { shapesJob } from './ceiling/shapes-job.js';
import type { CeilingJob } from './ceiling/types.js';
import { OrtPool, TOKENIZER_PATH } from './lib/ort-pool.js';

const arg = process.argv[2];
if (!arg) throw new Error('usage: node dist/bench/ceiling.js <job json or file>');
const job = JSON.parse(arg.startsWith('{') ? arg : readFileSync(arg, 'utf8')) as CeilingJob;
const tokenizer = ModelTokenizer.fromFile(TOKENIZER_PATH);
const pool = await OrtPool.start({ workers: job.workers, threads: job.threads, variant: job.variant ?? 'fp32', spin: job.spin ?? true });
try {
  const result =
    job.kind === 'corpus'
      ? await corpusJob(job, pool, tokenizer)
      : job.kind === 'shapes'
        ? await shapesJob(job, pool)
        : job.kind === 'latency'
          ? await latencyJob(job, pool, tokenizer)
          : await qualityJob(pool);
  console.log(JSON.stringify({ ...result, peakRssMb: peakRssMb() }));
} finally {
  await pool.close();
}
