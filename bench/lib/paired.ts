/**
 * Two measurements taken in alternation, for a ratio this machine's noise does not swamp: run after
 * run, the same configuration moved by ±10% here (other tenants share the host), so two medians
 * taken minutes apart can differ by more than the gap being measured. Pairs alternate their order
 * (A B, B A, A B, …) so a slow drift favours neither side; the figure is the median of the
 * per-pair ratios B / A.
 */
import { median } from '../../harness/stats.js';

export interface Pair {
  a: number;
  b: number;
  ratio: number;
}

export interface PairedRatio {
  pairs: Pair[];
  ratio: number;
  a: number;
  b: number;
  bestRatio: number;
}

/** What bench/paired.ts prints (one JSON line) and bench/run.ts keeps under `paired`. */
export interface PairedReport extends PairedRatio {
  clients: number;
  chunks: number;
  env: Record<string, string>;
  latency: {
    shortTokens: number;
    iterations: number;
    pauseMs: number;
    /** In-process runs back to back (a) against the service (b), ms. */
    backToBack: PairedRatio;
    /** The same with the in-process runs paced by a pause, as a worker behind HTTP idles. */
    paced: PairedRatio;
  };
}

/** What bench/run.ts hands bench/paired.ts in a job file. */
export interface PairedJob {
  size: number;
  pairs: number;
  env?: Record<string, string>;
  clients?: number;
  latencyIterations?: number;
}

export async function pairedRatio(runA: () => Promise<number>, runB: () => Promise<number>, pairs: number): Promise<PairedRatio> {
  const out: Pair[] = [];
  for (let i = 0; i < pairs; i++) {
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = await runA();
      b = await runB();
    } else {
      b = await runB();
      a = await runA();
    }
    out.push({ a, b, ratio: b / a });
  }
  return {
    pairs: out,
    ratio: median(out.map((p) => p.ratio)),
    a: median(out.map((p) => p.a)),
    b: median(out.map((p) => p.b)),
    // Interference only ever slows a run down, so the best runs are the least disturbed.
    bestRatio: Math.max(...out.map((p) => p.b)) / Math.max(...out.map((p) => p.a)),
  };
}
