/**
 * How faithful the int8 graph is to fp32, through the service: two servers (EMBEDDING_MODEL_VARIANT=fp32
 * and =int8) embed (1) every text of the reference fixture (scripts/reference/reference.json) and
 * (2) an evenly spaced sample of real code chunks (harness/source-corpus.ts: NumPy and SciPy, cached
 * in .scratch/corpus). Reports, per text, the cosine of the int8 vector to the fp32 one (min, median,
 * mean, how many below 0.99) and, on the code sample, how many of each chunk's 10 nearest neighbours
 * under fp32 are also among its 10 nearest under int8 (every chunk a query against the rest). No
 * timing: it may run on a busy machine. Prints one JSON line.
 *
 *   npm run eval:int8 -- [--code 2000]
 */
import { loadReference } from '../harness/reference.js';
import { cosine, SERVER_ENTRY } from '../harness/server.js';
import { buildSourceCorpus } from '../harness/source-corpus.js';
import { median } from '../harness/stats.js';
import { type ModelVariant, projectRoot } from '../src/model/files.js';
import { post, startChild } from './lib/http.js';

const argv = process.argv.slice(2);
const codeSize = Number(argv.includes('--code') ? argv[argv.indexOf('--code') + 1] : 2000);
const REQUEST_CHUNKS = 32;
const K = 10;

async function embedAll(url: string, texts: readonly string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += REQUEST_CHUNKS) {
    const chunks = texts.slice(i, i + REQUEST_CHUNKS).map((content, j) => ({ chunk_id: String(i + j), content }));
    const res = JSON.parse(await post(`${url}/embed`, JSON.stringify({ batch_id: `eval-${i}`, chunks }))) as { vectors: { vector: number[] }[] };
    for (const v of res.vectors) out.push(Float32Array.from(v.vector));
  }
  return out;
}

function cosineSummary(cosines: number[]) {
  return {
    texts: cosines.length,
    min: Math.min(...cosines),
    median: median(cosines),
    mean: cosines.reduce((a, b) => a + b, 0) / cosines.length,
    below099: cosines.filter((c) => c < 0.99).length,
  };
}

/** Indices of the K vectors most similar to vectors[q], q itself left out (the vectors are unit length). */
function nearest(vectors: Float32Array[], q: number): number[] {
  const scores = vectors.map((v, i) => ({ i, s: i === q ? -Infinity : cosine(v, vectors[q]!) }));
  return scores.sort((a, b) => b.s - a.s || a.i - b.i).slice(0, K).map((x) => x.i);
}

const reference = loadReference();
const corpus = await buildSourceCorpus();
const step = Math.max(1, Math.floor(corpus.length / codeSize));
const code = corpus.filter((_, i) => i % step === 0).slice(0, codeSize).map((c) => c.text);

const vectors: Partial<Record<ModelVariant, { reference: Float32Array[]; code: Float32Array[] }>> = {};
for (const variant of ['fp32', 'int8'] as const) {
  const server = await startChild(process.execPath, [SERVER_ENTRY], {
    cwd: projectRoot(),
    env: { LOG_LEVEL: 'warn', EMBEDDING_API_KEY: '', EMBEDDING_MODEL_VARIANT: variant },
  });
  try {
    vectors[variant] = { reference: await embedAll(server.url, reference.items.map((r) => r.text)), code: await embedAll(server.url, code) };
  } finally {
    await server.stop();
  }
}
const fp32 = vectors.fp32!;
const int8 = vectors.int8!;
const referenceCosines = fp32.reference.map((v, i) => cosine(int8.reference[i]!, v));
const worst = referenceCosines.map((c, i) => ({ id: reference.items[i]!.id, cosine: c })).sort((a, b) => a.cosine - b.cosine).slice(0, 5);
const overlaps = fp32.code.map((_, q) => {
  const a = new Set(nearest(fp32.code, q));
  return nearest(int8.code, q).filter((i) => a.has(i)).length / K;
});
console.log(
  JSON.stringify({
    reference: { ...cosineSummary(referenceCosines), worst },
    code: {
      ...cosineSummary(fp32.code.map((v, i) => cosine(int8.code[i]!, v))),
      top10Overlap: overlaps.reduce((a, b) => a + b, 0) / overlaps.length,
      worstOverlap: Math.min(...overlaps),
    },
  }),
);
