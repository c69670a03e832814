/**
 * Two measurements taken in alternation, for a ratio this machine's noise does not swamp: run after
 * run, the same configuration moved by ±10% here (other tenants share the host), so two medians
 * taken minutes apart can differ by more than the gap being measured. Pairs alternate their order
 * (A B, B A, A B, …) so a slow drift favours neither side; the figure is the median of the
 * per-pair ratios B / A.
 */
import { median } from './stats.mjs';

export async function pairedRatio(runA, runB, pairs) {
  const out = [];
  for (let i = 0; i < pairs; i++) {
    let a;
    let b;
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
