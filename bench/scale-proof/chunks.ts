/**
 * The proof's input and its check. Input: `count` real code chunks spread evenly over the NumPy and SciPy corpus
 * (harness/source-corpus.ts; every n-th chunk, so C, Cython, Fortran and Python all appear), as the NDJSON the producer
 * reads (`{"chunk_id","content"}` a line). Check: the collector's output against it, by chunk id.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { buildSourceCorpus } from '../../harness/source-corpus.js';
import { DIMENSIONS } from '../../src/model/spec.js';

export async function writeProofChunks(file: string, count: number): Promise<string[]> {
  const corpus = await buildSourceCorpus();
  if (corpus.length < count) throw new Error(`the corpus has ${corpus.length} chunks, fewer than ${count}`);
  const stride = Math.floor(corpus.length / count);
  const chosen = Array.from({ length: count }, (_, i) => corpus[i * stride]!);
  writeFileSync(file, chosen.map((c) => JSON.stringify({ chunk_id: c.id, content: c.text })).join('\n') + '\n');
  return chosen.map((c) => c.id);
}

export interface DeliveryCheck {
  chunksIn: number;
  /** Lines in the collector's output. */
  linesOut: number;
  /** Distinct chunks among them. */
  chunksOut: number;
  /** Lines beyond the first for a chunk: what the upsert must have removed. */
  duplicates: number;
  missing: number;
  /** Chunk ids out that were never sent. */
  unknown: number;
  /** Lines whose vector is not 384 finite numbers (or 1,536 bytes of base64). */
  badVectors: number;
}

function vectorOk(line: Record<string, unknown>): boolean {
  const v = line.vector ?? line.embedding;
  if (Array.isArray(v)) return v.length === DIMENSIONS && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (typeof v === 'string') return Buffer.from(v, 'base64').length === DIMENSIONS * 4;
  return false;
}

export function checkDelivery(inputIds: string[], outFile: string): DeliveryCheck {
  const sent = new Set(inputIds);
  const seen = new Map<string, number>();
  let linesOut = 0;
  let badVectors = 0;
  for (const text of existsSync(outFile) ? readFileSync(outFile, 'utf8').split('\n') : []) {
    if (text.trim() === '') continue;
    linesOut++;
    const line = JSON.parse(text) as Record<string, unknown>;
    const id = String(line.chunk_id);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (!vectorOk(line)) badVectors++;
  }
  const known = [...seen.keys()].filter((id) => sent.has(id));
  return {
    chunksIn: inputIds.length,
    linesOut,
    chunksOut: seen.size,
    duplicates: [...seen.values()].reduce((n, k) => n + k - 1, 0),
    missing: inputIds.length - known.length,
    unknown: seen.size - known.length,
    badVectors,
  };
}

/** Every chunk exactly once, with a whole vector. */
export const deliveryOk = (c: DeliveryCheck) =>
  c.chunksOut === c.chunksIn && c.linesOut === c.chunksIn && c.duplicates === 0 && c.missing === 0 && c.unknown === 0 && c.badVectors === 0;
