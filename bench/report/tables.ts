/** The detail tables: thread layout, batch shape, token budget and overhead, padding, tokenization placement, int8, JSON. */
import { DEFAULT_BATCH_OVERHEAD_TOKENS } from '../../src/core/planner.js';
import { f0, f1, f2, pct } from './format.js';
import type { ReportContext } from './context.js';
import { NO_BUDGET, type BenchResults } from './results.js';

export function layoutAndShapeLines(r: BenchResults): string[] {
  const L: string[] = [];
  L.push('### Thread layout (workers × intra-op threads)');
  L.push('');
  L.push('| layout | in-process chunks/s | tokens/s | CPU ms per chunk | peak RSS MB | short chunk p50 ms | 32-chunk request p50 ms | service chunks/s (4 clients) | service idle short p50 ms | service peak RSS MB |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of r.layouts) {
    const s = r.service.find((x) => x.workers === l.workers && x.threads === l.threads);
    const s4 = s?.runs.find((x) => x.concurrency === 4);
    L.push(`| ${l.workers}×${l.threads} | ${f1(l.chunksPerS)} | ${f0(l.tokensPerS)} | ${f1(l.cpuMsPerChunk)} | ${f0(l.peakRssMb)} | ${f2(l.latency.shortWithTokenizeP50)} | ${f0(l.latency.requestP50)} | ${f1(s4?.chunksPerS)} | ${f2(s?.idleShortP50)} | ${f0(s?.peakRssMb)} |`);
  }
  L.push('');
  L.push('### Batch shape (2 workers × 1 thread, both running the same shape)');
  L.push('');
  L.push('| rows × seq | padded tokens | tokens/s | ms per batch | CPU ms per 1,000 tokens |');
  L.push('|---|---:|---:|---:|---:|');
  for (const s of r.shapes) L.push(`| ${s.rows} × ${s.seq} | ${s.tokens} | ${f0(s.tokensPerS)} | ${f0(s.msPerBatch)} | ${f1(s.cpuMsPer1kTokens)} |`);
  L.push('');
  return L;
}

export function budgetLines(r: BenchResults): string[] {
  const L: string[] = [];
  L.push('### Token budget and batch overhead (2×1, pre-tokenized, each request of the HTTP mix planned as the service plans it)');
  L.push('');
  L.push(`Medians of ${r.params.reps} repetitions; the overhead rows use budget ${r.budget}. Padding is padded / real tokens of the batches that ran. *Quiet inference ms per chunk* sums each batch's fastest run over the repetitions (interference only lengthens a batch), divided by the chunks: the column the decisions below are read from, as it moves far less from run to run than chunks/s or CPU time.`);
  L.push('');
  L.push('| EMBEDDING_MAX_BATCH_TOKENS | overhead per batch (tokens) | batches | padding | chunks/s | real tokens/s | CPU ms per chunk | quiet inference ms per chunk | peak RSS MB |');
  L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const b of r.budgets) L.push(`| ${b.budget === NO_BUDGET ? 'none' : b.budget} | ${DEFAULT_BATCH_OVERHEAD_TOKENS} | ${b.batches} | ${f2(b.padded / b.realTokens)} | ${f1(b.chunksPerS)} | ${f0(b.tokensPerS)} | ${f1(b.cpuMsPerChunk)} | ${f1(b.quietInferMsPerChunk)} | ${f0(b.peakRssMb)} |`);
  for (const o of r.overheads ?? []) L.push(`| ${r.budget} | ${o.overhead} | ${o.batches} | ${f2(o.padded / o.realTokens)} | ${f1(o.chunksPerS)} | ${f0(o.tokensPerS)} | ${f1(o.cpuMsPerChunk)} | ${f1(o.quietInferMsPerChunk)} | ${f0(o.peakRssMb)} |`);
  L.push('');
  return L;
}

export function paddingAndPlacementLines(r: BenchResults): string[] {
  const L: string[] = [];
  L.push('### Padding (padded tokens / real tokens)');
  L.push('');
  L.push(`| batching | batches | padding ratio | batches over ${r.budget} real padded tokens | largest batch, padded tokens |`);
  L.push('|---|---:|---:|---:|---:|');
  for (const p of r.padding) L.push(`| ${p.name} | ${p.batches} | ${f2(p.ratio)} | ${p.overBudget} | ${f0(p.maxPadded)} |`);
  L.push('');
  const sorted21 = r.layouts.find((l) => l.workers === 2 && l.threads === 1);
  L.push(`Measured (2×1, pre-tokenized): the corpus in arrival order, fixed batches of 32, ran at ${f1(r.arrival32.chunksPerS)} chunks/s and ${f1(r.arrival32.cpuMsPerChunk)} CPU ms per chunk (padding ${f2(r.arrival32.padded / r.arrival32.realTokens)}×), against ${f1(sorted21?.chunksPerS)} chunks/s and ${f1(sorted21?.cpuMsPerChunk)} CPU ms sorted with the budget: ${f2((sorted21?.chunksPerS ?? NaN) / r.arrival32.chunksPerS)}× the throughput, ${f2(r.arrival32.cpuMsPerChunk / (sorted21?.cpuMsPerChunk ?? NaN))}× less CPU.`);
  L.push('');
  L.push('### Tokenization placement (2×1, same batches)');
  L.push('');
  L.push('| where | chunks/s | CPU ms per chunk | tokenization, ms total | main-thread blocking, ms total |');
  L.push('|---|---:|---:|---:|---:|');
  L.push(`| pre-tokenized (ceiling) | ${f1(sorted21?.chunksPerS)} | ${f1(sorted21?.cpuMsPerChunk)} | – | – |`);
  L.push(`| in the worker, beside inference (the service) | ${f1(r.placement.worker.chunksPerS)} | ${f1(r.placement.worker.cpuMsPerChunk)} | ${f0(r.placement.worker.workerTokenizeMs)} | 0 |`);
  L.push(`| on the main thread, ids sent to the worker | ${f1(r.placement.main.chunksPerS)} | ${f1(r.placement.main.cpuMsPerChunk)} | ${f0(r.placement.main.mainTokenizeMs)} | ${f0(r.placement.main.mainTokenizeMs)} |`);
  L.push('');
  L.push(`Tokenizing costs ${f2(r.corpus.tokenizeMsPerChunk)} ms per chunk on one core (${f0(r.corpus.tokenizeTokensPerS)} tokens/s), against ${f1(sorted21?.cpuMsPerChunk)} CPU ms per chunk for inference (${pct(r.corpus.tokenizeMsPerChunk / (sorted21?.cpuMsPerChunk ?? NaN))}).`);
  L.push('');
  return L;
}

export function int8AndJsonLines(r: BenchResults, c: ReportContext): string[] {
  const { a } = c;
  const L: string[] = [];
  L.push('### int8 vs fp32');
  L.push('');
  L.push('| graph | chunks/s (in process, sorted) | tokens/s | CPU ms per chunk | peak RSS MB | cosine to sentence-transformers: min / median / mean | texts < 0.99 |');
  L.push('|---|---:|---:|---:|---:|---|---:|');
  const fq = r.int8.fp32Quality;
  const iq = r.int8.quality;
  L.push(`| fp32 | ${f1(a.chunksPerS)} | ${f0(a.tokensPerS)} | ${f1(a.cpuMsPerChunk)} | ${f0(a.peakRssMb)} | ${fq.min.toFixed(6)} / ${fq.median.toFixed(6)} / ${fq.mean.toFixed(6)} | ${fq.below099} of ${fq.texts} |`);
  L.push(`| int8 | ${f1(r.int8.throughput.chunksPerS)} | ${f0(r.int8.throughput.tokensPerS)} | ${f1(r.int8.throughput.cpuMsPerChunk)} | ${f0(r.int8.throughput.peakRssMb)} | ${iq.min.toFixed(4)} / ${iq.median.toFixed(4)} / ${iq.mean.toFixed(4)} | ${iq.below099} of ${iq.texts} |`);
  L.push('');
  L.push('### JSON serialisation');
  L.push('');
  L.push(`Formatting one 384-float vector as JSON (\`vectorJson\`, shortest round-trip decimals) takes ${r.json.perChunkMs.toFixed(3)} ms; at the service's 4-client throughput a chunk costs ${f2(r.json.e2ePerChunkMs)} ms of wall time on 2 cores, so serialisation is ${(r.json.share * 100).toFixed(2)}% of it (${r.json.share > 0.05 ? 'above' : 'below'} the 5% bar).`);
  L.push('');
  return L;
}
