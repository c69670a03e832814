/**
 * The service against the ceiling, measured in alternation (see lib/paired.mjs for why): the
 * ceiling's 2×1 pool lives in this process, pre-tokenized, the whole corpus sorted and cut to the
 * token budget; the service runs as a child on 127.0.0.1 and gets the request mix from 4 clients.
 * One idles while the other runs.
 *
 *   npm run bench:paired                      # 6 pairs on the 400-chunk corpus, prints JSON
 *   npm run bench:paired -- --pairs 4 --env '{"EMBEDDING_MAX_BATCH_TOKENS":"1024"}'
 *   node bench/paired.mjs <job.json>          # as bench/run.mjs calls it: { size, pairs, env }
 */
import { readFileSync } from 'node:fs';
import { buildCorpus, ROOT } from './corpus.mjs';
import { drive, startChild } from './lib/http.mjs';
import { requestMix } from './lib/mix.mjs';
import { MODEL_DIR, OrtPool } from './lib/ort-pool.mjs';
import { pairedRatio } from './lib/paired.mjs';

const { ModelTokenizer } = await import(`${ROOT}/dist/src/core/tokenizer.js`);
const { planBatches, DEFAULT_MAX_BATCH_TOKENS } = await import(`${ROOT}/dist/src/core/batching.js`);

const argv = process.argv.slice(2);
const flag = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const job = argv[0] && !argv[0].startsWith('--')
  ? JSON.parse(readFileSync(argv[0], 'utf8'))
  : { size: Number(flag('size', 400)), pairs: Number(flag('pairs', 6)), env: JSON.parse(flag('env', '{}')) };
const clients = job.clients ?? 4;

const corpus = buildCorpus(job.size);
const tokenizer = ModelTokenizer.fromFile(`${MODEL_DIR}/tokenizer.json`);
const rows = corpus.map((c) => tokenizer.encode(c.text).ids);
const plan = planBatches(rows.map((r) => r.length), { minBatchSize: 1, batchSize: 64, parallelism: 2, maxBatchTokens: DEFAULT_MAX_BATCH_TOKENS, longestFirst: true });
const bodies = requestMix(corpus).map((r) => JSON.stringify(r));

const pool = await OrtPool.start({ workers: 2, threads: 1 });
const server = await startChild(process.execPath, [`${ROOT}/dist/src/server.js`], {
  cwd: ROOT,
  env: { LOG_LEVEL: 'warn', EMBEDDING_API_KEY: '', EMBEDDING_WORKERS: '2', EMBEDDING_ONNX_THREADS: '1', ...job.env },
});
try {
  const ceiling = async () => corpus.length / (await pool.runPlan(plan, rows)).wallS;
  const service = async () => corpus.length / (await drive(server.url, bodies, clients, server.pid)).wall;
  await ceiling(); // warm-up, both sides
  await drive(server.url, bodies.slice(0, 4), 2);
  const result = await pairedRatio(ceiling, service, job.pairs);
  console.log(JSON.stringify({ clients, chunks: corpus.length, env: job.env ?? {}, ...result }));
} finally {
  await server.stop();
  await pool.close();
}
