/**
 * `npm run bench:lone`: issue 16's lone-request target against TEI, in one run, systems alternated round by round.
 * Each round gives every system a lone short text (`SHORT_TEXT`, 23 word pieces) as `--iterations` requests one
 * after another, and the corpus as 32-chunk requests from `--clients` keep-alive clients. Prints a table on
 * stderr and the results as JSON on stdout.
 *
 *   npm run bench:lone                                   # service (defaults: with the lone worker here) and without it vs TEI: 5 rounds,
 *                                                        # 200 lone requests, 4 clients, 400 chunks
 *   npm run bench:lone -- --systems service,tei --rounds 8
 *   npm run bench:lone -- --quick                        # smoke: 1 round, 20 lone requests, 64 chunks
 *
 * Targets (issue 16), for each service configuration against TEI: lone p50 and p99 at or below TEI's; 4-client chunks/s
 * ≥ 1.15 × TEI's (median of the per-round ratios).
 */
import os from 'node:os';
import { buildCorpus } from '../harness/corpus.js';
import { median } from '../harness/stats.js';
import { ModelTokenizer } from '../src/workers/thread/tokenizer.js';
import { SHORT_TEXT } from './lib/mix.js';
import { TOKENIZER_PATH } from './lib/ort-pool.js';
import { pickSystems, sideBySide, type SystemResult } from './measure/systems.js';

const args = process.argv.slice(2);
const value = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const quick = args.includes('--quick');
const systems = pickSystems((value('systems') ?? 'service,service-no-lone,tei').split(','));
const rounds = Number(value('rounds') ?? (quick ? 1 : 5));
const iterations = Number(value('iterations') ?? (quick ? 20 : 200));
const clients = Number(value('clients') ?? 4);
const size = Number(value('size') ?? (quick ? 64 : 400));

for (const s of systems) {
  const why = s.missing();
  if (why) {
    process.stderr.write(`bench:lone: ${s.name}: ${why}\n`);
    process.exit(1);
  }
}
const started = Date.now();
const log = (m: string) => process.stderr.write(`[lone ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}\n`);
const corpus = buildCorpus(size);
const tokenizer = ModelTokenizer.fromFile(TOKENIZER_PATH);
const realTokens = corpus.reduce((n, c) => n + tokenizer.encode(c.text).ids.length, 0);
const requests: string[][] = [];
for (let i = 0; i < corpus.length; i += 32) requests.push(corpus.slice(i, i + 32).map((c) => c.text));
log(`${systems.map((s) => s.name).join(', ')}; ${rounds} rounds; ${iterations} lone requests of ${tokenizer.encode(SHORT_TEXT).ids.length} tokens; ${corpus.length} chunks as ${requests.length} requests from ${clients} clients; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const results = await sideBySide({ systems, requests, realTokens, clients, rounds, loneText: SHORT_TEXT, loneIterations: iterations, cores: os.availableParallelism(), log });

const row = (r: SystemResult) =>
  `${r.name.padEnd(16)} ${r.chunksPerS.toFixed(1).padStart(8)} chunks/s  lone p50 ${r.loneP50.toFixed(2).padStart(6)} ms  p99 ${r.loneP99.toFixed(2).padStart(6)} ms  RSS ${r.peakRssMb.toFixed(0).padStart(5)} MB  cos min ${r.cosMin.toFixed(6)}`;
process.stderr.write(results.map(row).join('\n') + '\n');
const tei = results.find((r) => r.name === 'tei');
const targets: Record<string, unknown> = {};
for (const svc of tei ? results.filter((r) => r.name.startsWith('service')) : []) {
  // Per-round ratios: the two systems ran one after the other in each round.
  const pairs = svc.perRound.map((x, i) => x / tei!.perRound[i]!);
  const lonePairs = svc.loneP50PerRound.map((x, i) => x / tei!.loneP50PerRound[i]!);
  const t = {
    loneP50: { service: svc.loneP50, tei: tei!.loneP50, met: svc.loneP50 <= tei!.loneP50, perRoundRatio: lonePairs },
    loneP99: { service: svc.loneP99, tei: tei!.loneP99, met: svc.loneP99 <= tei!.loneP99 },
    throughput: { ratio: median(pairs), perRoundRatio: pairs, met: median(pairs) >= 1.15 },
  };
  targets[svc.name] = t;
  const met = (x: boolean) => (x ? 'met' : 'not met');
  process.stderr.write(
    `${svc.name} / TEI: lone p50 ${svc.loneP50.toFixed(2)} vs ${tei!.loneP50.toFixed(2)} ms (${met(t.loneP50.met)}; per round ${lonePairs.map((x) => x.toFixed(2)).join(', ')}), ` +
      `p99 ${svc.loneP99.toFixed(2)} vs ${tei!.loneP99.toFixed(2)} ms (${met(t.loneP99.met)}), ` +
      `${clients}-client chunks/s ${t.throughput.ratio.toFixed(2)}× (per round ${pairs.map((x) => x.toFixed(2)).join(', ')}; target ≥ 1.15: ${met(t.throughput.met)})\n`,
  );
}
process.stdout.write(JSON.stringify({ rounds, iterations, clients, chunks: corpus.length, realTokens, results, targets }, null, 2) + '\n');
