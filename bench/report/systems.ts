/** The headline table (issue 16): the service side by side with TEI, Infinity and fastembed, each figure also as a ratio to the service. */
import { f0, f1, f2 } from './format.js';
import type { BenchResults } from './results.js';

const ratio = (x: number, base: number | undefined) => (base !== undefined && Number.isFinite(x / base) ? `${(x / base).toFixed(2)}×` : '–');
const cos = (x: number) => (Number.isFinite(x) ? x.toFixed(7) : '–');

export function systemsLines(r: BenchResults): string[] {
  const s = r.systems;
  const L: string[] = [];
  L.push('### Against the systems a user would pick instead: TEI, Infinity, fastembed');
  L.push('');
  if (!s) {
    L.push('Not measured in this run (`--no-peers`, or a run from before issue 16). `npm run bench:peers:setup` installs Infinity and fastembed, `npm run bench:peers:setup:tei` builds TEI.');
    L.push('');
    return L;
  }
  const base = s.results.find((x) => x.name === 'service');
  L.push(
    `Every system loads all-MiniLM-L6-v2 from the same files (\`bench/peers/setup.sh\`: the sentence-transformers folder with this service's fp32 \`model.onnx\`) and all of them stay up for the whole comparison. ` +
      `In each of ${s.rounds} round${s.rounds > 1 ? 's' : ''}, each system in turn (the order rotated by one every round) embeds the corpus above (${r.corpus.chunks} chunks, ${f0(r.corpus.realTokens)} real tokens) ` +
      `as requests of ${s.requestChunks} chunks from ${s.clients} keep-alive clients (HTTP servers) or in one \`embed\` call (fastembed, in process: no HTTP, no JSON), ` +
      `then a lone short text (23 word pieces) ${s.loneIterations} times one after another. chunks/s and tokens/s are medians over the rounds, the lone p50/p99 over all its requests, ` +
      'peak RSS the process tree\'s high-water mark, the cosine is each corpus vector against this service\'s. × is the ratio to this service at its defaults (above 1: more chunks/s, or more ms and MB).',
  );
  L.push('');
  L.push('| system | setting | chunks/s | × | tokens/s | lone p50 ms | × | lone p99 ms | × | peak RSS MB | × | cosine to ours: min / median |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  const ordered = [...s.results].sort((a, b) => (a.setting === b.setting ? 0 : a.setting === 'defaults' ? -1 : 1));
  for (const x of ordered) {
    L.push(
      `| ${x.label} | ${x.setting} | ${f1(x.chunksPerS)} | ${ratio(x.chunksPerS, base?.chunksPerS)} | ${f0(x.tokensPerS)} | ${f2(x.loneP50)} | ${ratio(x.loneP50, base?.loneP50)} | ` +
        `${f2(x.loneP99)} | ${ratio(x.loneP99, base?.loneP99)} | ${f0(x.peakRssMb)} | ${ratio(x.peakRssMb, base?.peakRssMb)} | ${cos(x.cosMin)} / ${cos(x.cosMedian)} |`,
    );
  }
  L.push('');
  L.push(`chunks/s per round: ${ordered.map((x) => `${x.name} ${x.perRound.map(f1).join(', ')}`).join('; ')}.`);
  if (s.skipped.length) L.push(`Not run here: ${s.skipped.map((x) => `${x.name} (${x.why})`).join('; ')}.`);
  L.push('');
  L.push('*Tuned* is each system set for this machine\'s cores where it has a knob for it, or, for this service, its other layout: without the lone worker (`EMBEDDING_LONE_THREADS=0`, the default under a memory budget below 2 GiB), which its defaults here (a 16.8 GB budget) include; Infinity with the graph its own optimiser would write; fastembed with batches of 32 (its `parallel`, a process per core, starts those processes anew in every call). TEI has none left: its onnxruntime session already takes every core.');
  L.push('');
  return L;
}
