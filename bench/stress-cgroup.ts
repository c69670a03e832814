/**
 * `npm run stress:cgroup`: the service's memory promise under a REAL kernel limit. Three scenarios,
 * each with the real server inside a fresh child memory cgroup (harness/cgroup.ts), fed with NumPy
 * and SciPy source code (harness/source-corpus.ts) while small requests arrive every 200 ms:
 *   a. 768 MiB: 2,000-chunk JSON requests, four at a time;
 *   b. 768 MiB: one giant NDJSON request (50,000 chunks), read for a bounded time;
 *   c. 2 GiB lowered to 900 MiB mid-run, load as in a.
 * Prints markdown tables, saves the run as JSON (`--render FILE` re-renders one), and exits 1 if a
 * promise broke: a chunk missing, duplicated or out of order, an OOM kill, a small request
 * unanswered after 30 s. Flags: see bench/stress-cgroup/options.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSourceCorpus, DEFAULT_SDISTS } from '../harness/source-corpus.js';
import { projectRoot } from '../src/model/files.js';
import { cpuBusyShare, cpuModel } from './measure/machine.js';
import { runJsonLoad } from './stress-cgroup/json-load.js';
import { runNdjsonLoad } from './stress-cgroup/ndjson-load.js';
import { parseOptions, type StressOptions } from './stress-cgroup/options.js';
import { renderRun, type StressRun } from './stress-cgroup/render.js';
import { runScenario, type ScenarioResult, type ScenarioSpec } from './stress-cgroup/scenario.js';
import { brokenPromises } from './stress-cgroup/verdict.js';

const options = parseOptions(process.argv.slice(2));

if (options.render) {
  const run = JSON.parse(readFileSync(options.render, 'utf8')) as StressRun;
  process.stdout.write(renderRun(run));
  process.exit(run.scenarios.some((r) => brokenPromises(r).length > 0) ? 1 : 0);
}

function scenarios(o: StressOptions, corpus: Awaited<ReturnType<typeof buildSourceCorpus>>): ScenarioSpec[] {
  const json = (chunks: number, minutes: number, prefix: string) => async (url: string) =>
    ({ kind: 'json', json: await runJsonLoad({ url, chunks: corpus.slice(0, chunks), perRequest: o.request, parallel: o.parallel, deadlineMs: minutes * 60_000, batchPrefix: prefix }) }) as const;
  const all: ScenarioSpec[] = [
    { key: 'a', title: `${o.parallel} × ${o.request.toLocaleString('en-US')}-chunk JSON requests`, limitMiB: o.aLimitMiB, smallEveryMs: o.probeEveryMs, env: {}, load: json(o.aChunks, o.aMinutes, 'a') },
    {
      key: 'b',
      title: `one ${o.bChunks.toLocaleString('en-US')}-chunk request, ${o.bBody === 'ndjson' ? 'NDJSON body streamed' : 'JSON body'}, NDJSON answer`,
      limitMiB: o.bLimitMiB,
      smallEveryMs: o.smallEveryMs,
      // A streamed body has no size limit; 50,000 chunks of this code are about 71 MiB of JSON, over the default 64 MiB body limit.
      env: o.bBody === 'json' ? { EMBEDDING_MAX_BODY_BYTES: String(128 * 2 ** 20) } : {},
      load: async (url) => ({ kind: 'ndjson', ndjson: await runNdjsonLoad(url, corpus.slice(0, o.bChunks), o.bMinutes * 60_000, o.bBody) }),
    },
    {
      key: 'c',
      title: `${o.parallel} × ${o.request.toLocaleString('en-US')}-chunk JSON requests, limit lowered mid-run`,
      limitMiB: o.cFromMiB,
      lower: { afterS: o.cLowerAfterS, toMiB: o.cToMiB },
      smallEveryMs: o.probeEveryMs,
      env: {},
      load: json(o.cChunks, o.cMinutes, 'c'),
    },
  ];
  return all.filter((s) => o.only.has(s.key));
}

const version = (pkg: string) => (JSON.parse(readFileSync(path.join(projectRoot(), 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
const git = (...args: string[]) => execFileSync('git', args, { cwd: projectRoot(), encoding: 'utf8' }).trim();

const corpus = await buildSourceCorpus();
const busy = await cpuBusyShare(3000);
const chars = corpus.reduce((n, c) => n + c.text.length, 0);
const startedAt = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
const run: StressRun = {
  startedAt,
  commit: `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' + uncommitted changes' : ''}`,
  command: `npm run stress:cgroup${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine: [
    `CPU: ${cpuModel()}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM; load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ` +
      `${busy === null ? 'n/a' : `${Math.round(busy * 100)}%`} of the cores busy in the 3 s before it (other sessions share this machine)`,
    `versions: Linux ${os.release()}, Node ${process.version}, onnxruntime-node ${version('onnxruntime-node')}, piscina ${version('piscina')}`,
  ],
  corpus:
    `${DEFAULT_SDISTS.map((s) => `${s.name} ${s.version}`).join(' and ')} sdists from PyPI, ${corpus.length.toLocaleString('en-US')} chunks of ≤ 40 lines ` +
    `(${(chars / 2 ** 20).toFixed(1)} MiB, mean ${Math.round(chars / corpus.length)} chars); every scenario takes them from the first`,
  smallRequests:
    `one every ${options.smallEveryMs} ms in b and every ${options.probeEveryMs} ms in a and c, 1–${options.smallMax} chunks (uniform) of a chunk's first ${options.smallLines} lines, from anywhere in the corpus; ` +
    `given up after ${options.smallTimeoutS} s`,
  scenarios: [],
};
console.log(`${run.command}\n${run.machine.join('\n')}\ncorpus: ${run.corpus}`);

let failed = false;
for (const spec of scenarios(options, corpus)) {
  console.log(`\n[${new Date().toISOString()}] scenario ${spec.key}: ${spec.title}, limit ${spec.limitMiB} MiB`);
  let result: ScenarioResult;
  try {
    const small = { maxChunks: options.smallMax, lines: options.smallLines, timeoutS: options.smallTimeoutS };
    result = await runScenario(spec, corpus, small, options.sampleMs);
  } catch (error) {
    // Could not be run at all (no cgroup, server would not start): nothing was measured, which is a failure.
    console.error(`scenario ${spec.key} could not run: ${(error as Error).stack}`);
    failed = true;
    continue;
  }
  run.scenarios.push(result);
  const broken = brokenPromises(result);
  console.log(`[${new Date().toISOString()}] scenario ${spec.key} done: ${result.chunksReceived} chunks back in ${result.loadSeconds.toFixed(0)} s; ${broken.length ? broken.join('; ') : 'promises kept'}`);
  mkdirSync(path.dirname(options.out), { recursive: true });
  writeFileSync(options.out, JSON.stringify(run, null, 1));
}

console.log(`\n${renderRun(run)}\nsaved: ${options.out}`);
failed ||= run.scenarios.some((r) => brokenPromises(r).length > 0);
process.exit(failed ? 1 : 0);
