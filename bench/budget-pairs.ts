/**
 * Two token budgets compared in alternation, in process (2 workers × 1 thread, pre-tokenized), each
 * request of the HTTP mix planned on its own as the service plans it. Both pools stay up; runs
 * alternate A B, B A, …; besides the per-pair ratio of chunks/s it sums each batch's fastest
 * inference over the runs ("quiet" time: interference only lengthens a batch).
 *
 *   npm run bench:budget-pairs -- --a 512 --b 256 --reps 5 [--size 400]
 */
import { buildCorpus } from '../harness/corpus.js';
import { sum } from '../harness/stats.js';
import { ModelTokenizer } from '../src/workers/thread/tokenizer.js';
import { planAsService } from './lib/mix.js';
import { OrtPool, TOKENIZER_PATH } from './lib/ort-pool.js';
import { pairedRatio } from './lib/paired.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => Number(argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const budgets = { a: flag('a', 512), b: flag('b', 256) };
const reps = flag('reps', 5);

const corpus = buildCorpus(flag('size', 400));
const tokenizer = ModelTokenizer.fromFile(TOKENIZER_PATH);
const rows = corpus.map((c) => tokenizer.encode(c.text).ids);
const planFor = (budget: number) => planAsService(corpus, { batchSize: 64, parallelism: 2, maxBatchTokens: budget, longestFirst: true });

interface Side {
  plan: number[][];
  pool: OrtPool;
  /** Each run's inference ms per batch, in plan order. */
  runs: number[][];
}
const sides: { a: Side; b: Side } = {
  a: { plan: planFor(budgets.a), pool: await OrtPool.start({ workers: 2, threads: 1 }), runs: [] },
  b: { plan: planFor(budgets.b), pool: await OrtPool.start({ workers: 2, threads: 1 }), runs: [] },
};
const runner = (side: Side) => async () => {
  const { results, wallS } = await side.pool.runPlan(side.plan, rows);
  side.runs.push(results.map((r) => r.inferMs));
  return corpus.length / wallS;
};
try {
  await runner(sides.a)();
  await runner(sides.b)();
  for (const side of Object.values(sides)) side.runs.length = 0; // warm-up runs do not count
  const paired = await pairedRatio(runner(sides.a), runner(sides.b), reps);
  const quiet = (side: Side) => sum(side.plan.map((_, j) => Math.min(...side.runs.map((r) => r[j]!)))) / corpus.length;
  console.log(
    JSON.stringify({
      budgets,
      batches: { a: sides.a.plan.length, b: sides.b.plan.length },
      chunksPerS: { a: paired.a, b: paired.b },
      pairRatios: paired.pairs.map((p) => p.ratio),
      ratio: paired.ratio,
      quietInferMsPerChunk: { a: quiet(sides.a), b: quiet(sides.b) },
      quietRatio: quiet(sides.b) / quiet(sides.a),
    }),
  );
} finally {
  await sides.a.pool.close();
  await sides.b.pool.close();
}
