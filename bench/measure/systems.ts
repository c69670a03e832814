/**
 * The systems a user would pick instead of this service (issue 16), run side by side with it: TEI and Infinity over
 * HTTP, fastembed in process, each loading the same model files from disk (bench/peers/setup.sh, setup-tei.sh).
 * Each system is started once and kept up while `sideBySide` alternates between them round by round, so a
 * slow minute on this shared host lands on every system alike.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { cosine, SERVER_ENTRY, UNCACHED } from '../../harness/server.js';
import { median, percentile, treePeakRssMb } from '../../harness/stats.js';
import { drive, post, startChild, type RunningChild } from '../lib/http.js';
import { ROOT } from './paths.js';

const PEERS = path.join(ROOT, 'bench', 'peers');
/** The shared model folder every peer loads (setup.sh `model`). */
export const PEER_MODEL_DIR = path.join(PEERS, 'models', 'minilm');
const TEI_DIR = path.join(PEERS, 'tei');
const NODE_FLOOR_ENTRY = path.join(ROOT, 'dist', 'bench', 'lib', 'node-floor.js');

/** How a system is reached: an HTTP server (4 keep-alive clients) or a library in a process of its own. */
export type SystemKind = 'http' | 'in-process';

export interface SystemSpec {
  /** Name on the command line (`--systems`) and in the report. */
  name: string;
  /** What the report says it is and how it is configured. */
  label: string;
  /** `defaults`, or `tuned` to the machine's cores (what a user tuning for this machine would set). */
  setting: 'defaults' | 'tuned';
  kind: SystemKind;
  /** Why it cannot run here, or undefined when it can. */
  missing(): string | undefined;
  start(cores: number): Promise<RunningSystem>;
}

export interface RunningSystem {
  pid: number;
  /** Embeds `texts` as `requests` (groups of chunk texts) from `clients` clients; wall seconds and the server's CPU seconds. */
  corpus(requests: readonly string[][], clients: number): Promise<{ seconds: number; cpuS: number }>;
  /** One text, `n` requests one after another: each one's milliseconds. */
  lone(text: string, n: number): Promise<number[]>;
  /** The vectors for `texts`, in order (for the cosine to the service's). */
  vectors(texts: readonly string[]): Promise<number[][]>;
  stop(): Promise<void>;
}

/** One HTTP API: the route, the request body for some texts, the vectors out of the response. */
interface HttpApi {
  path: string;
  body(texts: readonly string[]): string;
  parse(text: string): number[][];
}

const serviceApi: HttpApi = {
  path: '/embed',
  body: (texts) => JSON.stringify({ batch_id: 'b', chunks: texts.map((content, i) => ({ chunk_id: String(i), content })) }),
  parse: (text) => (JSON.parse(text) as { vectors: Array<{ vector: number[] }> }).vectors.map((v) => v.vector),
};
const teiApi: HttpApi = {
  path: '/embed',
  body: (texts) => JSON.stringify({ inputs: texts }),
  parse: (text) => JSON.parse(text) as number[][],
};
const infinityApi: HttpApi = {
  path: '/embeddings',
  body: (texts) => JSON.stringify({ model: 'minilm', input: texts }),
  parse: (text) => (JSON.parse(text) as { data: Array<{ embedding: number[]; index: number }> }).data.sort((a, b) => a.index - b.index).map((d) => d.embedding),
};

function httpSystem(child: RunningChild, api: HttpApi, cleanup?: () => void): RunningSystem {
  const endpoint = `${child.url}${api.path}`;
  return {
    pid: child.pid,
    async corpus(requests, clients) {
      const run = await drive(child.url, requests.map((r) => api.body(r)), clients, child.pid, api.path);
      return { seconds: run.wall, cpuS: run.serverCpuS };
    },
    async lone(text, n) {
      const body = api.body([text]);
      for (let i = 0; i < 5; i++) await post(endpoint, body);
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await post(endpoint, body);
        times.push(performance.now() - s);
      }
      return times;
    },
    async vectors(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += 32) out.push(...api.parse(await post(endpoint, api.body(texts.slice(i, i + 32)))));
      return out;
    },
    async stop() {
      await child.stop();
      cleanup?.();
    },
  };
}

/** fastembed-runner.py: one JSON command per line in, one JSON answer per line out. */
async function fastembedSystem(options: { threads?: number | undefined; batchSize?: number | undefined; parallel?: number | undefined }): Promise<RunningSystem> {
  const child: ChildProcessWithoutNullStreams = spawn(
    path.join(PEERS, 'venv-fastembed', 'bin', 'python'),
    [path.join(PEERS, 'fastembed-runner.py'), JSON.stringify({ model_dir: PEER_MODEL_DIR, threads: options.threads ?? null, batch_size: options.batchSize ?? null, parallel: options.parallel ?? null })],
    { cwd: PEERS, env: { ...process.env, HF_HUB_OFFLINE: '1' } },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => {
    const line = await lines.next();
    if (line.done) throw new Error(`fastembed runner exited: ${stderr}`);
    return JSON.parse(line.value) as T;
  };
  const ask = <T>(job: object) => {
    child.stdin.write(JSON.stringify(job) + '\n');
    return next<T>();
  };
  await next();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    async corpus(requests) {
      // In process the corpus is one call, as a library user would make it; the requests' grouping is an HTTP matter.
      const r = await ask<{ seconds: number; cpu_s: number }>({ cmd: 'corpus', texts: requests.flat() });
      return { seconds: r.seconds, cpuS: r.cpu_s };
    },
    async lone(text, n) {
      return (await ask<{ ms: number[] }>({ cmd: 'lone', text, n })).ms;
    },
    async vectors(texts) {
      return (await ask<{ vectors: number[][] }>({ cmd: 'vectors', texts })).vectors;
    },
    async stop() {
      child.stdin.end();
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const teiBin = () => process.env.TEI_BIN ?? path.join(TEI_DIR, 'bin', 'text-embeddings-router');
/** The onnxruntime shared library TEI's ort backend loads (PyPI onnxruntime 1.22.1, setup-tei.sh). */
function teiOrtDylib(): string | undefined {
  if (process.env.TEI_ORT_DYLIB) return process.env.TEI_ORT_DYLIB;
  const lib = path.join(TEI_DIR, 'venv-ort', 'lib');
  if (!existsSync(lib)) return undefined;
  for (const py of readdirSync(lib)) {
    const capi = path.join(lib, py, 'site-packages', 'onnxruntime', 'capi');
    const so = existsSync(capi) ? readdirSync(capi).find((f) => f.startsWith('libonnxruntime.so.')) : undefined;
    if (so) return path.join(capi, so);
  }
  return undefined;
}

const needModel = () => (existsSync(path.join(PEER_MODEL_DIR, 'model.onnx')) ? undefined : 'the shared model folder is missing (npm run bench:peers:setup -- model)');
const infinityBin = path.join(PEERS, 'venv-infinity', 'bin', 'infinity_emb');
const fastembedPython = path.join(PEERS, 'venv-fastembed', 'bin', 'python');

function startInfinity(cache: string | undefined, cleanupCache: boolean): Promise<RunningSystem> {
  const hfCache = cache ?? mkdtempSync(path.join(os.tmpdir(), 'bench-infinity-'));
  return startChild(
    infinityBin,
    ['v2', '--model-id', '.', '--served-model-name', 'minilm', '--engine', 'optimum', '--device', 'cpu', '--pooling-method', 'mean', '--host', '127.0.0.1', '--port', '{port}'],
    { cwd: PEER_MODEL_DIR, env: { DO_NOT_TRACK: '1', INFINITY_ANONYMOUS_USAGE_STATS: '0', HF_HUB_OFFLINE: '1', HF_HUB_CACHE: hfCache }, timeoutMs: 300_000 },
  ).then((child) => httpSystem(child, infinityApi, cleanupCache ? () => rmSync(hfCache, { recursive: true, force: true }) : undefined));
}

/** Every system the bench knows, in the report's order. */
export const SYSTEMS: SystemSpec[] = [
  {
    name: 'service',
    label: 'this service, defaults (a single-threaded worker per core, and the lone worker: budget ≥ 2 GiB here)',
    setting: 'defaults',
    kind: 'http',
    missing: () => (existsSync(SERVER_ENTRY) ? undefined : 'not built'),
    start: () => startService({}),
  },
  {
    name: 'service-no-lone',
    label: 'this service without the lone worker (EMBEDDING_LONE_THREADS=0: the default under a budget below 2 GiB)',
    setting: 'tuned',
    kind: 'http',
    missing: () => (existsSync(SERVER_ENTRY) ? undefined : 'not built'),
    start: () => startService({ EMBEDDING_LONE_THREADS: '0' }),
  },
  {
    name: 'tei',
    label: 'TEI 1.9.3, onnxruntime backend, defaults (intra-op threads = cores, tokenization workers = cores − 1)',
    setting: 'defaults',
    kind: 'http',
    missing: () =>
      needModel() ??
      (existsSync(teiBin()) ? undefined : `no TEI binary at ${teiBin()} (npm run bench:peers:setup:tei, or TEI_BIN)`) ??
      (teiOrtDylib() ? undefined : 'no onnxruntime 1.22 library for TEI (npm run bench:peers:setup:tei, or TEI_ORT_DYLIB)'),
    start: async () =>
      httpSystem(
        await startChild(teiBin(), ['--model-id', PEER_MODEL_DIR, '--hostname', '127.0.0.1', '--port', '{port}', '--auto-truncate'], {
          env: { ORT_DYLIB_PATH: teiOrtDylib()!, HF_HUB_OFFLINE: '1' },
          timeoutMs: 300_000,
        }),
        teiApi,
      ),
  },
  {
    name: 'infinity',
    label: 'Infinity 0.0.78, optimum (ONNX Runtime) engine, defaults (its optimiser fails with these optimum versions: unfused graph)',
    setting: 'defaults',
    kind: 'http',
    missing: () => needModel() ?? (existsSync(infinityBin) ? undefined : 'not installed (npm run bench:peers:setup -- infinity)'),
    start: () => startInfinity(undefined, true),
  },
  {
    name: 'infinity-opt',
    label: 'Infinity 0.0.78 with the graph its optimiser would write (ONNX Runtime transformer fusions)',
    setting: 'tuned',
    kind: 'http',
    missing: () =>
      needModel() ??
      (existsSync(infinityBin) ? undefined : 'not installed (npm run bench:peers:setup -- infinity)') ??
      (existsSync(path.join(PEERS, 'hf-cache-infinity-opt')) ? undefined : 'no optimised graph (npm run bench:peers:setup -- infinity)'),
    start: () => startInfinity(path.join(PEERS, 'hf-cache-infinity-opt'), false),
  },
  {
    name: 'fastembed',
    label: 'fastembed 0.9.1 in process, defaults (`embed(texts)`: batch 256, onnxruntime threads = cores)',
    setting: 'defaults',
    kind: 'in-process',
    missing: () => needModel() ?? (existsSync(fastembedPython) ? undefined : 'not installed (npm run bench:peers:setup -- fastembed)'),
    start: () => fastembedSystem({}),
  },
  {
    name: 'fastembed-tuned',
    // Not `parallel` (a single-threaded process per core): fastembed starts those processes anew in every `embed` call,
    // each loading the model, which costs seconds per call.
    label: 'fastembed 0.9.1 in process, batch 32 (less padding than 256), `threads` = cores',
    setting: 'tuned',
    kind: 'in-process',
    missing: () => needModel() ?? (existsSync(fastembedPython) ? undefined : 'not installed (npm run bench:peers:setup -- fastembed)'),
    start: (cores) => fastembedSystem({ threads: cores, batchSize: 32 }),
  },
];

async function startService(env: Record<string, string>): Promise<RunningSystem> {
  const child = await startChild(process.execPath, ['--expose-gc', SERVER_ENTRY], { cwd: ROOT, env: { LOG_LEVEL: 'warn', EMBEDDING_API_KEY: '', ...UNCACHED, ...env } });
  return httpSystem(child, serviceApi);
}

/**
 * Not a system a user would pick, so not in `npm run bench`'s default set: what the lone-request target of issue 16 is
 * measured against besides TEI (`npm run bench:lone -- --systems service,node-floor,tei`).
 */
const NODE_FLOOR: SystemSpec = {
  name: 'node-floor',
  label: "Node.js's floor for a lone request: node:http, no framework or worker thread, one main-thread session on every core",
  setting: 'tuned',
  kind: 'http',
  missing: () => (existsSync(NODE_FLOOR_ENTRY) ? undefined : 'not built'),
  start: async () => httpSystem(await startChild(process.execPath, [NODE_FLOOR_ENTRY], { cwd: ROOT }), teiApi),
};

/** What `--systems` may name. */
const KNOWN: readonly SystemSpec[] = [...SYSTEMS, NODE_FLOOR];

/** `--systems a,b,c`, checked against KNOWN. */
export function pickSystems(names: readonly string[]): SystemSpec[] {
  return names.map((n) => {
    const spec = KNOWN.find((s) => s.name === n);
    if (!spec) throw new Error(`unknown system ${n}; known: ${KNOWN.map((s) => s.name).join(', ')}`);
    return spec;
  });
}

export interface SystemResult {
  name: string;
  label: string;
  setting: SystemSpec['setting'];
  kind: SystemKind;
  /** Per round: chunks/s over the corpus. */
  perRound: number[];
  chunksPerS: number;
  tokensPerS: number;
  cpuMsPerChunk: number;
  /** The lone short text, all rounds' requests together. */
  loneP50: number;
  /** The lone short text's p50 in each round. */
  loneP50PerRound: number[];
  loneP99: number;
  peakRssMb: number;
  /** Cosine of each corpus vector to the service's: min and median (1 for the service itself); NaN without the service. */
  cosMin: number;
  cosMedian: number;
}

export interface SideBySideOptions {
  systems: SystemSpec[];
  /** The corpus as requests of chunk texts (32 each: TEI's default client batch limit). */
  requests: string[][];
  realTokens: number;
  clients: number;
  rounds: number;
  loneText: string;
  loneIterations: number;
  cores: number;
  log: (message: string) => void;
}

/**
 * Starts every system, then runs `rounds` rounds; each round gives every system the whole corpus and the lone
 * text, in an order rotated by one each round, so no system always follows the same one. Peak RSS is read at
 * the end (the process tree's high-water mark).
 */
export async function sideBySide(o: SideBySideOptions): Promise<SystemResult[]> {
  const running: Array<{ spec: SystemSpec; sys: RunningSystem }> = [];
  try {
    for (const spec of o.systems) {
      o.log(`start ${spec.name}`);
      running.push({ spec, sys: await spec.start(o.cores) });
    }
    const texts = o.requests.flat();
    // Warm-up pass, and the vectors for the cosine column.
    const vectors = new Map<string, number[][]>();
    for (const { spec, sys } of running) vectors.set(spec.name, await sys.vectors(texts));
    const rounds = new Map<string, Array<{ seconds: number; cpuS: number }>>();
    const lone = new Map<string, number[]>();
    const loneRounds = new Map<string, number[]>();
    for (let r = 0; r < o.rounds; r++) {
      const order = running.map((_, i) => running[(i + r) % running.length]!);
      for (const { spec, sys } of order) {
        const run = await sys.corpus(o.requests, o.clients);
        const ms = await sys.lone(o.loneText, o.loneIterations);
        rounds.set(spec.name, [...(rounds.get(spec.name) ?? []), run]);
        lone.set(spec.name, [...(lone.get(spec.name) ?? []), ...ms]);
        loneRounds.set(spec.name, [...(loneRounds.get(spec.name) ?? []), percentile(ms, 50)]);
        o.log(`round ${r + 1}/${o.rounds} ${spec.name}: ${(texts.length / run.seconds).toFixed(1)} chunks/s, lone p50 ${percentile(ms, 50).toFixed(2)} ms`);
      }
    }
    const reference = vectors.get('service') ?? vectors.get('service-no-lone');
    return running.map(({ spec, sys }) => {
      const runs = rounds.get(spec.name)!;
      const cos = reference ? vectors.get(spec.name)!.map((v, i) => cosine(v, reference[i]!)) : [NaN];
      return {
        name: spec.name,
        label: spec.label,
        setting: spec.setting,
        kind: spec.kind,
        perRound: runs.map((x) => texts.length / x.seconds),
        chunksPerS: median(runs.map((x) => texts.length / x.seconds)),
        tokensPerS: median(runs.map((x) => o.realTokens / x.seconds)),
        cpuMsPerChunk: median(runs.map((x) => (x.cpuS * 1000) / texts.length)),
        loneP50: percentile(lone.get(spec.name)!, 50),
        loneP99: percentile(lone.get(spec.name)!, 99),
        loneP50PerRound: loneRounds.get(spec.name)!,
        peakRssMb: treePeakRssMb(sys.pid),
        cosMin: Math.min(...cos),
        cosMedian: median(cos),
      };
    });
  } finally {
    for (const { sys } of running) await sys.stop();
  }
}
