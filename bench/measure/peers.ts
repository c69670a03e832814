/** The two peers: the transformers.js pipeline in process and the Python original design over HTTP. */
import { median, treePeakRssMb } from '../../harness/stats.js';
import { idleLatency, startChild } from '../lib/http.js';
import { SHORT_TEXT } from '../lib/mix.js';
import { MODEL_DIR } from '../lib/ort-pool.js';
import type { BenchParams, PythonResult, TransformersJsResult } from '../report/results.js';
import type { JobRunner } from './jobs.js';
import { PY, PY_SERVER, ROOT, TJS_DIR } from './paths.js';
import { loadRun, type LoadMix } from './service.js';

/** What bench/peers/transformersjs/run.mjs prints for one repetition. */
type TransformersJsRep = Omit<TransformersJsResult, 'perRep'>;

export async function transformersJs(jobs: JobRunner, params: BenchParams): Promise<TransformersJsResult> {
  // One repetition takes a while; stop adding repetitions once the time budget is spent.
  const reps: TransformersJsRep[] = [];
  const s = Date.now();
  while (reps.length < params.reps && (reps.length === 0 || (Date.now() - s) / 1000 < params.peerBudgetS * (reps.length / (reps.length + 1)))) {
    reps.push(await jobs.run<TransformersJsRep>(`${TJS_DIR}/run.mjs`, { size: params.size, reps: 1, quantized: false }, TJS_DIR));
  }
  return {
    chunksPerS: median(reps.map((r) => r.chunksPerS)),
    perRep: reps.map((r) => r.chunksPerS),
    cpuMsPerChunk: median(reps.map((r) => r.cpuMsPerChunk)),
    p50: median(reps.map((r) => r.p50)),
    p95: median(reps.map((r) => r.p95)),
    p99: median(reps.map((r) => r.p99)),
    peakRssMb: Math.max(...reps.map((r) => r.peakRssMb)),
  };
}

export async function pythonPeer(mix: LoadMix, params: BenchParams): Promise<PythonResult> {
  const s = await startChild(PY, [PY_SERVER, '--port', '{port}'], { cwd: ROOT, env: { MODEL_DIR } });
  try {
    const idle = await idleLatency(s.url, SHORT_TEXT, params.latencyIterations);
    const run = await loadRun(mix, s.url, s.pid, 4, params.reps, 1);
    return { ...run, idleShortP50: idle, peakRssMb: treePeakRssMb(s.pid) };
  } finally {
    await s.stop();
  }
}
