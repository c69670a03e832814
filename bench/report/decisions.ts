/** "Decisions taken from these figures": each default the service ships, read against this run. */
import { DEFAULT_BATCH_OVERHEAD_TOKENS, DEFAULT_MAX_BATCH_TOKENS } from '../../src/core/planner.js';
import type { CorpusResult } from '../ceiling/types.js';
import { f0, f1, f2, pct } from './format.js';
import type { ReportContext } from './context.js';
import { NO_BUDGET, type BenchResults } from './results.js';

export function decisionLines(r: BenchResults, c: ReportContext): string[] {
  const { a } = c;
  const L: string[] = [];
  L.push('### Decisions taken from these figures');
  L.push('');
  const byBudget = (x: number) => r.budgets.find((b) => b.budget === x);
  const noCap = byBudget(NO_BUDGET) ?? r.budgets[r.budgets.length - 1];
  const cur = byBudget(r.budget);
  // Older runs lack the quiet figure; CPU time was read then.
  const cost = (x: CorpusResult) => (x.quietInferMsPerChunk as number | undefined) ?? x.cpuMsPerChunk;
  const costName = r.budgets[0]?.quietInferMsPerChunk === undefined ? 'CPU ms per chunk' : 'Quiet inference ms per chunk';
  const cheapest = Math.min(...r.budgets.map(cost));
  const pointsTo = r.budgets.filter((b) => cost(b) <= cheapest * 1.03).reduce((x, b) => (b.budget > x.budget ? b : x)).budget;
  L.push(
    `- **\`EMBEDDING_MAX_BATCH_TOKENS\` = ${DEFAULT_MAX_BATCH_TOKENS}.** ${costName} on the corpus (2×1) by budget: ` +
      r.budgets.map((b) => `${b.budget === NO_BUDGET ? 'none' : b.budget} → ${f1(cost(b))}`).join(', ') +
      `; peak RSS ${f0(cur?.peakRssMb)} MB at ${r.budget} against ${f0(noCap?.peakRssMb)} MB ${noCap?.budget === NO_BUDGET ? 'without a cap' : `at ${noCap?.budget}`}. The largest budget within 3% of the cheapest is ${pointsTo === NO_BUDGET ? 'no cap' : pointsTo}` +
      (pointsTo === DEFAULT_MAX_BATCH_TOKENS ? ', the default.' : `; the default (${DEFAULT_MAX_BATCH_TOKENS}) differs, so re-check on a quiet machine before changing it (larger batches also hold more memory).`) +
      ' Wall-clock chunks/s and CPU time both move with whatever else runs on the host; the quiet figure much less.',
  );
  if (r.overheads?.length) {
    L.push(
      `- **${DEFAULT_BATCH_OVERHEAD_TOKENS} tokens of overhead per batch** in the planner's cost (\`DEFAULT_BATCH_OVERHEAD_TOKENS\`). ${costName} by overhead: ` +
        r.overheads.map((o) => `${o.overhead} → ${f1(cost(o))} (${o.batches} batches, padding ${f2(o.padded / o.realTokens)}×)`).join(', ') +
        '. On this corpus of mostly long chunks the differences are small; a small positive value keeps short chunks together, where a batch of one would pay a full pass over the weights for a few tokens.',
    );
  }
  // The padding table's rows in measure/padding.ts's order: the service's planning, the same with exact counts, the ceiling's.
  const service = r.padding[2]!;
  const exact = r.padding[3]!;
  const ceiling = r.padding[4]!;
  L.push(`- **Token counts estimated, not tokenized on the main thread.** Exact counts would pad ${f2(exact.ratio)}× instead of ${f2(service.ratio)}×, a ${pct(service.ratio / exact.ratio - 1)} saving, while tokenizing once more on the main thread costs ${f2(r.corpus.tokenizeMsPerChunk)} ms per chunk (${pct(r.corpus.tokenizeMsPerChunk / a.cpuMsPerChunk)} of the inference CPU) and blocks the event loop for that long, a minute and more for a 50,000-chunk request. The estimate runs ${f0(r.corpus.tokenizeMsPerChunk / r.corpus.estimate.msPerChunk)}× faster; it overshoots more often than it undershoots, so batches rarely pass the budget (${service.overBudget} of ${service.batches} did here, the largest at ${f0(service.maxPadded)} padded tokens). The planner before this one sorted by characters (2.5 per piece) and split each request evenly before cutting to the budget: 1.10× padding on this corpus (run of 2026-11-25).`);
  const l12 = r.layouts.find((l) => l.workers === 1 && l.threads === 2);
  const l21 = r.layouts.find((l) => l.workers === 2 && l.threads === 1);
  if (l12 && l21) {
    L.push(`- **Default layout 2 workers × 1 thread** (workers = cores). It costs ${f1(l21.cpuMsPerChunk)} CPU ms per chunk against ${f1(l12.cpuMsPerChunk)} for one two-thread session, and ran the corpus at ${f1(l21.chunksPerS)} against ${f1(l12.chunksPerS)} chunks/s. A lone 32-chunk request took ${f0(l21.latency.requestP50)} ms split over two sessions and ${f0(l12.latency.requestP50)} ms on one two-thread session; \`EMBEDDING_WORKERS=1\` (threads follow) is the setting for when single-request latency matters more than throughput. More workers than cores add memory (peak RSS column) and no throughput.`);
  }
  L.push(`- **Tokenization stays in the workers**: the same batches cost ${f1(r.placement.worker.cpuMsPerChunk)} CPU ms per chunk tokenized in the workers and ${f1(r.placement.main.cpuMsPerChunk)} tokenized on the main thread; the main thread is better kept for HTTP.`);
  L.push(`- **JSON stays as it is**: serialisation is ${(r.json.share * 100).toFixed(2)}% of the end-to-end time per chunk, far under the 5% at which the issue asks for a cheaper encoding (\`/v1/embeddings\` already offers base64).`);
  const q = r.int8.quality;
  const fidelity = q.below099 === 0 ? `every reference text at cosine ≥ 0.99 (lowest ${q.min.toFixed(4)}, median ${q.median.toFixed(4)})` : `but ${q.below099} of ${q.texts} reference texts fall below cosine 0.99 (lowest ${q.min.toFixed(4)})`;
  L.push(`- **int8 stays opt-in**: ${f2(a.cpuMsPerChunk / r.int8.throughput.cpuMsPerChunk)}× less CPU per chunk than fp32, ${fidelity}.`);
  L.push(`- **Chunks of concurrent requests do not share batches.** Per-request batching pads ${f2(service.ratio)}× against ${f2(ceiling.ratio)}× for the whole corpus sorted at once; merging requests would close part of that gap but tie a small request's latency to a large one's batches and would need the scheduler to split results across requests. Not done; the figure above is the most it could gain.`);
  return L;
}
