/** What this CPU can do: the ceiling and the short chunk held against one core's matrix-multiply speed. */
import { f0, f1, pct } from './format.js';
import type { ReportContext } from './context.js';
import type { BenchResults } from './results.js';

export function hardwareLines(r: BenchResults, c: ReportContext): string[] {
  const gemm = r.machine.gemmGflopsPerCore;
  const lat21 = c.lat21;
  if (!gemm || !lat21) return [''];
  // Dense work per token: 6 layers × 2 × (4·384² + 2·384·1536) multiply-adds; attention adds 4·seq·384 per layer.
  const denseFlops = 6 * 2 * (4 * 384 * 384 + 2 * 384 * 1536);
  const attention = (seq: number) => 6 * 4 * seq * 384;
  const perToken = denseFlops + attention(r.corpus.meanTokens);
  const achieved = (c.a.tokensPerS * perToken) / 1e9 / r.machine.cores;
  const shortFlops = lat21.shortTokens * (denseFlops + attention(lat21.shortTokens));
  const floorOne = (shortFlops / (gemm * 1e9)) * 1000;
  const peakTokensPerS = (2 * gemm * 1e9) / perToken;
  return [
    `**What this CPU can do.** ${r.machine.cpu}. One core multiplies fp32 matrices at ${f1(gemm)} GFLOP/s (numpy/OpenBLAS, 1024³, one thread). The model costs ${f1(perToken / 1e6)} MFLOP per token at this corpus's mean length, so the ceiling's ${f0(c.a.tokensPerS)} tokens/s is ${f1(achieved)} GFLOP/s per core, ${pct(achieved / gemm)} of the matrix-multiply speed${achieved / gemm >= 0.7 ? ': onnxruntime is already near what the hardware gives' : ''}. At full matrix-multiply speed on both cores this CPU would do ${f0(peakTokensPerS)} tokens/s; the issue's 8,000 tokens/s was measured on another CPU (Zen 4, AVX-512)${peakTokensPerS < 8000 ? ' and is beyond this one' : ''}. The same arithmetic bounds the short chunk: ${lat21.shortTokens} tokens are ${f0(shortFlops / 1e6)} MFLOP, ${f1(floorOne)} ms on one core at full matrix-multiply speed and ${f1(floorOne / 2)} ms on two, before any overhead: inference alone within 10 ms ${floorOne > 10 ? 'is out of reach for one core even at peak speed' : `takes ${pct(floorOne / 10)} of one core's peak`} and takes ${pct(floorOne / 20)} of peak from both cores on one request, while a lone small matrix product runs well below peak and the request still needs HTTP, tokenization and pooling.`,
    '',
  ];
}
