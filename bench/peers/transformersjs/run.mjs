/**
 * Benchmark peer: the transformers.js feature-extraction pipeline, in process, default settings
 * (its bundled onnxruntime-node, its own thread count), offline from a local model folder. It gets
 * the benchmark's request mix one request at a time, each request one pipeline call, as a hand-rolled
 * Node service would make it. Usage: node run.mjs '<json: {size, reps, quantized}>' (or a file holding it); prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { env, pipeline } from '@xenova/transformers';
// The corpus, request mix and statistics of the bench, compiled (`npm run bench` builds first).
import { buildCorpus } from '../../../dist/harness/corpus.js';
import { median, percentile, peakRssMb } from '../../../dist/harness/stats.js';
import { requestMix } from '../../../dist/bench/lib/mix.js';
import { MODEL_NAME, MODEL_ROOT, prepareModel } from './prepare-model.mjs';

const arg = process.argv[2] ?? '{}';
const job = JSON.parse(arg.startsWith('{') ? arg : readFileSync(arg, 'utf8'));
prepareModel();
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODEL_ROOT;
env.useBrowserCache = false;
env.useFSCache = false;

const extractor = await pipeline('feature-extraction', MODEL_NAME, { quantized: job.quantized ?? false });
const corpus = buildCorpus(job.size ?? 100);
const requests = requestMix(corpus).map((r) => r.chunks.map((c) => c.content));
await extractor(['warm up'], { pooling: 'mean', normalize: true });

const reps = [];
const latencies = [];
const cpuMs = [];
for (let r = 0; r < (job.reps ?? 1); r++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const texts of requests) {
    const s = performance.now();
    const out = await extractor(texts, { pooling: 'mean', normalize: true });
    if (out.dims[1] !== 384) throw new Error(`unexpected output ${out.dims}`);
    latencies.push(performance.now() - s);
  }
  const cpu = process.cpuUsage(cpu0);
  reps.push(corpus.length / ((performance.now() - t0) / 1000));
  cpuMs.push((cpu.user + cpu.system) / 1000 / corpus.length);
}
if (job.check) {
  const out = await extractor([job.check], { pooling: 'mean', normalize: true });
  console.error(JSON.stringify(Array.from(out.data.slice(0, 4))));
}
console.log(
  JSON.stringify({
    chunksPerS: median(reps),
    perRep: reps,
    cpuMsPerChunk: median(cpuMs),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    peakRssMb: peakRssMb(),
  }),
);
