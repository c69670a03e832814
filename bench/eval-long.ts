/**
 * npm run eval:long: does embedding long chunks whole (long_input `mean`) retrieve code better than truncating them?
 *
 * The corpus is real code nobody wrote for this: the functions of the Python standard library (of the `python3` on
 * PATH, or $PYTHON) that have a docstring and whose body, docstring removed, is longer than one window (more than 254
 * word pieces, counted here by the service's own tokenizer). Functions sharing a docstring are dropped.
 * Each function is queried by its own docstring; its body is the one right answer among all the bodies. Reported:
 * recall@1, recall@10 and mean reciprocal rank for `truncate`, `mean`, and the best single window (the highest
 * cosine over a body's windows, from `windows` mode), and the wall time per chunk of each mode (noisy on a shared
 * machine: the quality figures are not). The server runs with its defaults, over HTTP, as a child process.
 *
 *   npm run eval:long                          # every qualifying function (about 800 on Python 3.11)
 *   npm run eval:long -- --max-functions 100   # a smoke run: 100 of them, evenly spread over the sorted ids
 *   npm run eval:long -- --out .scratch/eval-long.json
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuModel } from './measure/machine.js';
import { postJson, startServer, UNCACHED, type RunningServer } from '../harness/server.js';
import { defaultModelDir, projectRoot, TOKENIZER_FILE } from '../src/model/files.js';
import { MAX_SEQ_LENGTH } from '../src/model/spec.js';
import { ModelTokenizer } from '../src/workers/thread/tokenizer.js';

interface StdlibFunction {
  id: string;
  query: string;
  body: string;
}

interface Entry {
  vector: number[];
  tokens: number;
  truncated: boolean;
  windows?: Array<{ vector: number[] }>;
}

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
const maxFunctions = Number(flag('--max-functions') ?? Number.POSITIVE_INFINITY);
const out = flag('--out') ?? path.join(projectRoot(), '.scratch', 'eval-long.json');
const python = process.env.PYTHON ?? 'python3';
const CHUNKS_PER_REQUEST = 64;

async function embedAll(server: RunningServer, texts: string[], longInput: string): Promise<{ entries: Entry[]; seconds: number }> {
  const entries: Entry[] = [];
  const started = performance.now();
  for (let at = 0; at < texts.length; at += CHUNKS_PER_REQUEST) {
    const chunks = texts.slice(at, at + CHUNKS_PER_REQUEST).map((content, i) => ({ chunk_id: String(at + i), content }));
    const res = await postJson(`${server.url}/embed`, { batch_id: `eval-${longInput}`, chunks, long_input: longInput });
    if (res.status !== 200) throw new Error(`/embed answered ${res.status}: ${res.text}`);
    entries.push(...(res.json.vectors as Entry[]));
  }
  return { entries, seconds: (performance.now() - started) / 1000 };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};

/** Rank (1 = first) of each query's own document, scoring every document with `score`. */
function ranks(queries: number[][], documents: number, score: (query: number[], doc: number) => number): number[] {
  return queries.map((query, own) => {
    const mine = score(query, own);
    let above = 0;
    for (let d = 0; d < documents; d++) if (d !== own && score(query, d) > mine) above++;
    return above + 1;
  });
}

function summary(rank: number[]) {
  const n = rank.length;
  return {
    recallAt1: rank.filter((r) => r === 1).length / n,
    recallAt10: rank.filter((r) => r <= 10).length / n,
    mrr: rank.reduce((s, r) => s + 1 / r, 0) / n,
  };
}

async function main(): Promise<void> {
  const extracted = JSON.parse(
    execFileSync(python, [path.join(projectRoot(), 'bench', 'long-input', 'stdlib_functions.py')], { encoding: 'utf8', maxBuffer: 1 << 30 }),
  ) as { python: string; stdlib: string; functions: StdlibFunction[] };
  const counts = new Map<string, number>();
  for (const f of extracted.functions) counts.set(f.query, (counts.get(f.query) ?? 0) + 1);
  const candidates = extracted.functions.filter((f) => counts.get(f.query) === 1).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const tokenizer = ModelTokenizer.fromFile(path.join(defaultModelDir(), TOKENIZER_FILE));
  const longer = candidates.filter((f) => tokenizer.countPieces(f.body) > MAX_SEQ_LENGTH - 2);
  // An even spread over the sorted ids, so a smoke run samples every part of the library.
  const step = Math.max(1, longer.length / Math.min(maxFunctions, longer.length));
  const long = Array.from({ length: Math.min(maxFunctions, longer.length) }, (_, i) => longer[Math.floor(i * step)]!);
  const bodies = long.map((f) => f.body);
  console.error(`${extracted.functions.length} functions with docstrings in ${extracted.stdlib}; ${candidates.length} with a unique docstring; ${longer.length} longer than one window; ${long.length} used`);

  const server = await startServer(UNCACHED);
  try {
    await server.waitReady();
    const truncate = await embedAll(server, bodies, 'truncate');
    const windows = await embedAll(server, bodies, 'windows');
    const queries = (await embedAll(server, long.map((f) => f.query), 'truncate')).entries.map((e) => e.vector);

    const tokens = windows.entries.map((e) => e.tokens);
    const windowCounts = windows.entries.map((e) => e.windows!.length);
    const results = {
      truncate: summary(ranks(queries, long.length, (q, d) => dot(q, truncate.entries[d]!.vector))),
      mean: summary(ranks(queries, long.length, (q, d) => dot(q, windows.entries[d]!.vector))),
      bestWindow: summary(ranks(queries, long.length, (q, d) => Math.max(...windows.entries[d]!.windows!.map((w) => dot(q, w.vector))))),
    };
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
    const report = {
      date: new Date().toISOString(),
      machine: { cpu: cpuModel(), cores: os.availableParallelism(), node: process.version },
      python: extracted.python,
      functions: long.length,
      bodyTokens: { median: median(tokens), p90: sorted(tokens)[Math.floor(tokens.length * 0.9)]!, max: Math.max(...tokens) },
      windows: { median: median(windowCounts), max: Math.max(...windowCounts), cut: windows.entries.filter((e) => e.truncated).length },
      results,
      msPerChunk: { truncate: (truncate.seconds * 1000) / long.length, windows: (windows.seconds * 1000) / long.length },
    };
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(`| Mode | recall@1 | recall@10 | MRR |\n|---|---|---|---|`);
    for (const [name, r] of Object.entries(results)) console.log(`| ${name} | ${pct(r.recallAt1)} | ${pct(r.recallAt10)} | ${r.mrr.toFixed(3)} |`);
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await server.stop();
  }
}

await main();
