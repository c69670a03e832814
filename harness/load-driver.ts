/**
 * The load driver behind `npm run loadtest` and test/e2e/load.test.ts: autocannon clients posting
 * mixed-size /embed requests, every response checked for count, order and ids, a sample of vectors
 * checked against the same texts embedded alone, and the server's RSS sampled throughout.
 */
import autocannon from 'autocannon';
import { buildCorpus } from './corpus.js';
import { watchRss } from './rss.js';
import { cosine } from './server.js';

// bench/soak.ts samples the server's RSS through the driver it already imports.
export { watchRss };

export interface CorpusChunk {
  id: string;
  text: string;
}

/** The benchmark corpus (corpus.ts): a fixed selection of code and prose from node_modules. */
export async function loadCorpus(size: number): Promise<CorpusChunk[]> {
  return buildCorpus(size);
}

/** Embeds every corpus text in a request of its own, the "computed alone" vectors loaded ones are held to. */
export async function embedAlone(url: string, corpus: readonly CorpusChunk[], headers: Record<string, string> = {}): Promise<Map<string, number[]>> {
  const alone = new Map<string, number[]>();
  for (const chunk of corpus) {
    const res = await fetch(`${url}/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ batch_id: `alone-${chunk.id}`, chunks: [{ chunk_id: chunk.id, content: chunk.text }] }),
    });
    if (res.status !== 200) throw new Error(`embedding ${chunk.id} alone: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { vectors: Array<{ vector: number[] }> };
    alone.set(chunk.id, body.vectors[0]!.vector);
  }
  return alone;
}

export interface LoadOptions {
  url: string;
  pid: number;
  connections: number;
  /** Run for this long (requests still in flight at the end are not counted) … */
  durationS?: number;
  /** … or send exactly this many requests and wait for every answer. */
  amount?: number;
  /**
   * Chunks per request are drawn log-uniformly from this range: many small requests and a few large
   * ones, as an indexer's calls are, with every size in the range possible.
   */
  sizes: [number, number];
  corpus: readonly CorpusChunk[];
  alone: ReadonlyMap<string, number[]>;
  /** Check every n-th chunk's vector against its computed-alone vector. */
  sampleEvery?: number;
  minCosine?: number;
  headers?: Record<string, string>;
  seed?: number;
}

export interface LoadReport {
  requests: number;
  byStatus: Record<string, number>;
  /** Transport errors and timeouts: a request that got no HTTP answer at all. */
  transportErrors: number;
  timeouts: number;
  latencyP50: number;
  latencyP99: number;
  chunksOk: number;
  chunksPerS: number;
  vectorsChecked: number;
  lowestCosine: number;
  /** Each problem found in a response, capped so a broken run stays readable. */
  problems: string[];
  peakRss: number;
  durationS: number;
}

interface Expectation {
  ids: string[];
}

/** A small deterministic generator, so a run's request mix can be reproduced. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const { corpus, alone, sizes } = options;
  const sampleEvery = options.sampleEvery ?? 16;
  const minCosine = options.minCosine ?? 0.99999;
  const random = lcg(options.seed ?? 7);
  const byStatus: Record<string, number> = {};
  const problems: string[] = [];
  const problem = (p: string) => void (problems.length < 50 && problems.push(p));
  let chunksOk = 0;
  let vectorsChecked = 0;
  let lowestCosine = 1;
  let sequence = 0;
  const rss = watchRss(options.pid);

  const started = performance.now();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 10 }),
    // A request is a failure only if it gets no answer at all; an accepted one may wait its turn.
    timeout: 900,
    requests: [
      {
        method: 'POST',
        path: '/embed',
        headers: { 'content-type': 'application/json', ...options.headers },
        setupRequest(request, context) {
          const n = Math.min(sizes[1], Math.floor(sizes[0] * ((sizes[1] + 1) / sizes[0]) ** random()));
          const first = Math.floor(random() * corpus.length);
          const batch = `load-${sequence++}`;
          // Chunk ids carry the corpus id, so each answer can be checked against its computed-alone vector.
          const chunks = Array.from({ length: n }, (_, i) => {
            const c = corpus[(first + i) % corpus.length]!;
            return { chunk_id: `${batch}:${i}:${c.id}`, content: c.text };
          });
          (context as { expected?: Expectation }).expected = { ids: chunks.map((c) => c.chunk_id) };
          return { ...request, body: JSON.stringify({ batch_id: batch, chunks }) };
        },
        onResponse(status, body, context, headers) {
          byStatus[status] = (byStatus[status] ?? 0) + 1;
          const expected = (context as { expected?: Expectation }).expected;
          let parsed: any;
          try {
            parsed = JSON.parse(body);
          } catch {
            problem(`HTTP ${status} with a body that is not JSON`);
            return;
          }
          if (status === 503) {
            const retryAfter = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
            if (!retryAfter) problem('503 without Retry-After');
            if (typeof parsed?.error?.code !== 'string') problem(`503 without a JSON error: ${body.slice(0, 200)}`);
            return;
          }
          if (status !== 200) {
            problem(`HTTP ${status}: ${body.slice(0, 200)}`);
            return;
          }
          const got = parsed.vectors as Array<{ chunk_id: string; vector: number[] }>;
          if (!expected || got.length !== expected.ids.length) {
            problem(`${got.length} results for ${expected?.ids.length} chunks`);
            return;
          }
          got.forEach((e, i) => {
            if (e.chunk_id !== expected.ids[i]) problem(`result ${i} is ${e.chunk_id}, expected ${expected.ids[i]}`);
            if (e.vector.length !== 384) problem(`${e.chunk_id}: ${e.vector.length} dimensions`);
            if (i % sampleEvery === 0) {
              const reference = alone.get(e.chunk_id.slice(e.chunk_id.lastIndexOf(':') + 1));
              if (!reference) return;
              const c = cosine(e.vector, reference);
              vectorsChecked++;
              lowestCosine = Math.min(lowestCosine, c);
              if (c < minCosine) problem(`${e.chunk_id}: cosine ${c} to the vector computed alone`);
            }
          });
          chunksOk += got.length;
        },
      },
    ],
  });
  const durationS = (performance.now() - started) / 1000;
  const { peak } = rss.stop();
  return {
    requests: result.requests.total,
    byStatus,
    transportErrors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    chunksOk,
    chunksPerS: chunksOk / durationS,
    vectorsChecked,
    lowestCosine,
    problems,
    peakRss: peak,
    durationS,
  };
}

export function formatReport(name: string, r: LoadReport, budget?: number): string {
  const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
  const statuses = Object.entries(r.byStatus)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  return [
    `| ${name} | ${r.requests} | ${statuses} | ${r.transportErrors} | ${r.latencyP50} | ${r.latencyP99} | ${r.chunksPerS.toFixed(0)} | ${r.vectorsChecked} (lowest cosine ${r.lowestCosine.toFixed(7)}) | ${mib(r.peakRss)}${budget ? ` / ${mib(budget)}` : ''} | ${r.problems.length} |`,
  ].join('\n');
}

export const REPORT_HEADER =
  '| run | requests | responses by status | transport errors | p50 ms | p99 ms | chunks/s | vectors checked | peak RSS / budget | problems |\n|---|---|---|---|---|---|---|---|---|---|';
