/**
 * The service against the ceiling, measured in alternation (see lib/paired.ts for why): the
 * ceiling's 2×1 pool lives in this process, pre-tokenized, the whole corpus sorted and cut to the
 * token budget; the service runs as a child on 127.0.0.1 and gets the request mix from 4 clients.
 * One idles while the other runs. Then the same for one short chunk on an otherwise idle server
 * against the same chunk in process (tokenization included, as ceiling.ts times it), p50 of
 * `latencyIterations` each: once with the in-process runs back to back, once paced by a pause
 * between runs, as a worker behind HTTP idles between one request's batch and the next.
 *
 *   npm run bench:paired                      # 6 pairs on the 400-chunk corpus, prints JSON
 *   npm run bench:paired -- --pairs 4 --env '{"EMBEDDING_MAX_BATCH_TOKENS":"1024"}'
 *   node dist/bench/paired.js <job.json>      # as bench/run.ts calls it: { size, pairs, env, clients, latencyIterations }
 */
import { readFileSync } from 'node:fs';
import { buildCorpus } from '../harness/corpus.js';
import { SERVER_ENTRY, UNCACHED } from '../harness/server.js';
import { percentile } from '../harness/stats.js';
import { DEFAULT_MAX_BATCH_TOKENS, planBatches } from '../src/core/planner.js';
import { projectRoot } from '../src/model/files.js';
import { ModelTokenizer } from '../src/workers/thread/tokenizer.js';
import { drive, idleLatency, startChild } from './lib/http.js';
import { requestMix, SHORT_TEXT } from './lib/mix.js';
import { OrtPool, TOKENIZER_PATH } from './lib/ort-pool.js';
import { pairedRatio, type PairedJob, type PairedReport } from './lib/paired.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] ?? fallback : fallback);
const job: PairedJob =
  argv[0] && !argv[0].startsWith('--')
    ? (JSON.parse(readFileSync(argv[0], 'utf8')) as PairedJob)
    : { size: Number(flag('size', '400')), pairs: Number(flag('pairs', '6')), env: JSON.parse(flag('env', '{}')) as Record<string, string> };
const clients = job.clients ?? 4;
const latencyIterations = job.latencyIterations ?? 100;
// About the time a worker behind HTTP sits idle between one short request's batch and the next.
const PAUSE_MS = 4;

const corpus = buildCorpus(job.size);
const tokenizer = ModelTokenizer.fromFile(TOKENIZER_PATH);
const rows = corpus.map((c) => tokenizer.encode(c.text).ids);
const plan = planBatches(rows.map((r) => r.length), { minBatchSize: 1, batchSize: 64, parallelism: 2, maxBatchTokens: DEFAULT_MAX_BATCH_TOKENS, longestFirst: true });
const bodies = requestMix(corpus).map((r) => JSON.stringify(r));

const pool = await OrtPool.start({ workers: 2, threads: 1 });
const server = await startChild(process.execPath, [SERVER_ENTRY], {
  cwd: projectRoot(),
  env: { LOG_LEVEL: 'warn', EMBEDDING_API_KEY: '', EMBEDDING_WORKERS: '2', EMBEDDING_ONNX_THREADS: '1', ...UNCACHED, ...job.env },
});
try {
  const ceiling = async () => corpus.length / (await pool.runPlan(plan, rows)).wallS;
  const service = async () => corpus.length / (await drive(server.url, bodies, clients, server.pid)).wall;
  await ceiling(); // warm-up, both sides
  await drive(server.url, bodies.slice(0, 4), 2);
  const result = await pairedRatio(ceiling, service, job.pairs);

  const inProcess = (pauseMs: number) => async () => {
    const times: number[] = [];
    for (let i = 0; i < latencyIterations; i++) {
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const t0 = performance.now();
      await pool.run({ texts: [SHORT_TEXT] });
      times.push(performance.now() - t0);
    }
    return percentile(times, 50);
  };
  const serviceShort = () => idleLatency(server.url, SHORT_TEXT, latencyIterations);
  await inProcess(0)();
  const latency = {
    shortTokens: tokenizer.encode(SHORT_TEXT).ids.length,
    iterations: latencyIterations,
    pauseMs: PAUSE_MS,
    backToBack: await pairedRatio(inProcess(0), serviceShort, job.pairs),
    paced: await pairedRatio(inProcess(PAUSE_MS), serviceShort, job.pairs),
  };
  console.log(JSON.stringify({ clients, chunks: corpus.length, env: job.env ?? {}, ...result, latency } satisfies PairedReport));
} finally {
  await server.stop();
  await pool.close();
}
