/** The service (or the Python peer) over HTTP: started as a child, driven by the request mix, its batch metrics read back. */
import { SERVER_ENTRY, UNCACHED } from '../../harness/server.js';
import { median, percentile, sum, treePeakRssMb } from '../../harness/stats.js';
import { drive, startChild } from '../lib/http.js';
import type { LoadRun } from '../report/results.js';
import { ROOT } from './paths.js';

/** Starts the service with `env` on top of the bench's defaults, runs `fn` against it, adds its peak RSS. */
export async function withService<T extends object>(env: Record<string, string>, fn: (url: string, pid: number) => Promise<T>): Promise<T & { peakRssMb: number }> {
  const s = await startChild(process.execPath, [SERVER_ENTRY], {
    cwd: ROOT,
    env: { LOG_LEVEL: 'warn', EMBEDDING_API_KEY: '', ...UNCACHED, ...env },
  });
  try {
    return { ...(await fn(s.url, s.pid)), peakRssMb: treePeakRssMb(s.pid) };
  } finally {
    await s.stop();
  }
}

/** Sums of the service's batch metrics (GET /metrics), for the profile: how busy the workers were. */
async function batchMetrics(url: string): Promise<{ busyS: number; batches: number }> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const total = (name: string) =>
      sum(
        text
          .split('\n')
          .filter((l) => l.startsWith(name))
          .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1))),
      );
    return {
      busyS: total('embedding_batch_duration_seconds_sum'),
      batches: total('embedding_batch_duration_seconds_count'),
    };
  } catch {
    return { busyS: NaN, batches: NaN };
  }
}

/** The request mix as JSON bodies, with what a run's figures are divided by. */
export interface LoadMix {
  bodies: string[];
  chunks: number;
  realTokens: number;
  cores: number;
}

/** `reps` runs of the whole mix from `concurrency` clients against the server at `url`, medians over the runs. */
export async function loadRun(mix: LoadMix, url: string, pid: number, concurrency: number, reps: number, workers = 2): Promise<LoadRun> {
  await drive(url, mix.bodies.slice(0, 4), 2); // warm up
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const m0 = await batchMetrics(url);
    const run = await drive(url, mix.bodies, concurrency, pid);
    const m1 = await batchMetrics(url);
    runs.push({ ...run, busyS: m1.busyS - m0.busyS, batches: m1.batches - m0.batches });
  }
  const lat = runs.flatMap((r) => r.latencies);
  return {
    concurrency,
    chunksPerS: median(runs.map((r) => mix.chunks / r.wall)),
    tokensPerS: median(runs.map((r) => mix.realTokens / r.wall)),
    perRep: runs.map((r) => mix.chunks / r.wall),
    p50: percentile(lat, 50),
    p95: percentile(lat, 95),
    p99: percentile(lat, 99),
    clientCpuShare: median(runs.map((r) => r.clientCpuS / (r.wall * mix.cores))),
    cpuMsPerChunk: median(runs.map((r) => (r.serverCpuS * 1000) / mix.chunks)),
    // Share of the run during which the workers had a batch in hand (from the service's own metrics).
    workerOccupancy: median(runs.map((r) => r.busyS / (r.wall * workers))),
    batches: median(runs.map((r) => r.batches)),
  };
}
