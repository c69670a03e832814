/**
 * int8 against fp32 through the service, in alternating pairs (lib/paired.ts says why): two servers
 * on 127.0.0.1, EMBEDDING_MODEL_VARIANT=fp32 and =int8, otherwise alike, both up the whole time; one
 * idles while the other serves the request mix from 4 clients, then the same for one short chunk on
 * an idle server (p50 of `--latency` requests). Before that it reports the CPU's vector extensions
 * (/proc/cpuinfo) and the kernels onnxruntime runs for each graph: one session per variant, as the
 * workers make it, profiled over one batch, its node kinds counted (DynamicQuantizeMatMul,
 * MatMulIntegerToFloat, … for int8). Prints one JSON line.
 *
 *   npm run bench:int8 -- [--pairs 6] [--size 400] [--latency 100] [--env '{"EMBEDDING_WORKERS":"2"}']
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildCorpus } from '../harness/corpus.js';
import { SERVER_ENTRY, UNCACHED } from '../harness/server.js';
import { type ModelVariant, projectRoot } from '../src/model/files.js';
import { drive, idleLatency, startChild } from './lib/http.js';
import { requestMix, SHORT_TEXT } from './lib/mix.js';
import { graphPath } from './lib/ort-pool.js';
import { pairedRatio } from './lib/paired.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] ?? fallback : fallback);
const pairs = Number(flag('pairs', '6'));
const size = Number(flag('size', '400'));
const latencyIterations = Number(flag('latency', '100'));
const env = JSON.parse(flag('env', '{}')) as Record<string, string>;
const CLIENTS = 4;

/** The flags of /proc/cpuinfo that decide which int8 kernels onnxruntime's MLAS can use. */
function vectorExtensions(): { model: string; flags: Record<string, boolean> } {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: reported as unknown
  }
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/));
  const names = ['avx2', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_int8'];
  return { model: /^model name\s*:\s*(.*)$/m.exec(text)?.[1] ?? os.cpus()[0]?.model ?? 'unknown', flags: Object.fromEntries(names.map((n) => [n, flags.has(n)])) };
}

/** The node kinds onnxruntime ran for one 8 × 64-token batch, after its graph optimisations, by count (from its profile). */
async function kernels(variant: ModelVariant): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'doctown-int8-profile-'));
  const session = await ort.InferenceSession.create(graphPath(variant), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: path.join(dir, variant),
  });
  const dims = [8, 64];
  const ids = new ort.Tensor('int64', new BigInt64Array(8 * 64).fill(1000n), dims);
  const mask = new ort.Tensor('int64', new BigInt64Array(8 * 64).fill(1n), dims);
  const types = new ort.Tensor('int64', new BigInt64Array(8 * 64), dims);
  await session.run({ input_ids: ids, attention_mask: mask, token_type_ids: types });
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  if (file === undefined) throw new Error(`onnxruntime wrote no profile into ${dir}`);
  const events = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { cat: string; name: string; args?: { op_name?: string } }[];
  rmSync(dir, { recursive: true, force: true });
  const counts: Record<string, number> = {};
  for (const e of events) {
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.args?.op_name) counts[e.args.op_name] = (counts[e.args.op_name] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}

const cpu = vectorExtensions();
const ops = { fp32: await kernels('fp32'), int8: await kernels('int8') };
const corpus = buildCorpus(size);
const bodies = requestMix(corpus).map((r) => JSON.stringify(r));
// Uncached: the pairs repeat the same chunks, which the cache would answer instead of either graph.
const serverEnv = (variant: ModelVariant) => ({ LOG_LEVEL: 'warn', EMBEDDING_API_KEY: '', EMBEDDING_WORKERS: '2', EMBEDDING_ONNX_THREADS: '1', ...UNCACHED, ...env, EMBEDDING_MODEL_VARIANT: variant });
const fp32 = await startChild(process.execPath, [SERVER_ENTRY], { cwd: projectRoot(), env: serverEnv('fp32') });
const int8 = await startChild(process.execPath, [SERVER_ENTRY], { cwd: projectRoot(), env: serverEnv('int8') });
try {
  const throughput = (server: typeof fp32) => async () => corpus.length / (await drive(server.url, bodies, CLIENTS, server.pid)).wall;
  // Latency as a rate (requests/s) so that, like throughput, a ratio above 1 means int8 is faster.
  const shortRate = (server: typeof fp32) => async () => 1000 / (await idleLatency(server.url, SHORT_TEXT, latencyIterations));
  await drive(fp32.url, bodies.slice(0, 4), 2); // warm-up, both sides
  await drive(int8.url, bodies.slice(0, 4), 2);
  const chunks = await pairedRatio(throughput(fp32), throughput(int8), pairs);
  const short = await pairedRatio(shortRate(fp32), shortRate(int8), pairs);
  console.log(
    JSON.stringify({
      cpu,
      kernels: ops,
      clients: CLIENTS,
      chunks: corpus.length,
      env,
      chunksPerS: { fp32: chunks.a, int8: chunks.b, ratio: chunks.ratio, bestRatio: chunks.bestRatio, pairRatios: chunks.pairs.map((p) => p.ratio) },
      shortP50Ms: { fp32: 1000 / short.a, int8: 1000 / short.b, speedup: short.ratio, iterations: latencyIterations },
    }),
  );
} finally {
  await fp32.stop();
  await int8.stop();
}
