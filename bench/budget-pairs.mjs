/**
 * Two token budgets compared in alternation, in process (2 workers × 1 thread, pre-tokenized), each
 * request of the HTTP mix planned on its own as the service plans it. Both pools stay up; runs
 * alternate A B, B A, …; besides the per-pair ratio of chunks/s it sums each batch's fastest
 * inference over the runs ("quiet" time: interference only lengthens a batch).
 *
 *   npm run bench:budget-pairs -- --a 512 --b 256 --reps 5
 */
import { buildCorpus, ROOT } from './corpus.mjs';
import { planAsService } from './lib/mix.mjs';
import { MODEL_DIR, OrtPool } from './lib/ort-pool.mjs';
import { pairedRatio } from './lib/paired.mjs';
import { sum } from './lib/stats.mjs';

const { ModelTokenizer } = await import(`${ROOT}/dist/src/workers/thread/tokenizer.js`);
const { planBatches, estimateTokens } = await import(`${ROOT}/dist/src/core/planner.js`);

const argv = process.argv.slice(2);
const flag = (name, fallback) => Number(argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const budgets = { a: flag('a', 512), b: flag('b', 256) };
const reps = flag('reps', 5);

const corpus = buildCorpus(flag('size', 400));
const tokenizer = ModelTokenizer.fromFile(`${MODEL_DIR}/tokenizer.json`);
const rows = corpus.map((c) => tokenizer.encode(c.text).ids);
const planFor = (budget) => planAsService(corpus, { planBatches, estimateTokens }, { batchSize: 64, parallelism: 2, maxBatchTokens: budget, longestFirst: true });

const sides = {};
for (const key of ['a', 'b']) sides[key] = { plan: planFor(budgets[key]), pool: await OrtPool.start({ workers: 2, threads: 1 }), runs: [] };
const runner = (side) => async () => {
  const { results, wallS } = await side.pool.runPlan(side.plan, rows);
  side.runs.push(results.map((r) => r.inferMs));
  return corpus.length / wallS;
};
try {
  await runner(sides.a)();
  await runner(sides.b)();
  for (const side of Object.values(sides)) side.runs.length = 0; // warm-up runs do not count
  const paired = await pairedRatio(runner(sides.a), runner(sides.b), reps);
  const quiet = (side) => sum(side.plan.map((_, j) => Math.min(...side.runs.map((r) => r[j])))) / corpus.length;
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
