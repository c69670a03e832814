import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { projectRoot } from '../src/model/files.js';
import { cosine, postJson } from './server.js';

/** One text of scripts/reference/reference.json, with what sentence-transformers made of it. */
export interface ReferenceItem {
  id: string;
  text: string;
  token_ids: number[];
  truncated: boolean;
  embedding: number[];
}

export interface Reference {
  max_seq_length: number;
  items: ReferenceItem[];
}

/** A Python reference fixture (`reference.json`, or `reference-512.json` at 512 word pieces), read by the tokenizer and parity tests. */
export function loadReference(file = 'reference.json'): Reference {
  return JSON.parse(readFileSync(path.join(projectRoot(), 'scripts/reference', file), 'utf8')) as Reference;
}

/**
 * Embeds every reference text through the server at `url` in one request and checks each answer against the
 * reference: chunk id, token count, truncation flag, and cosine ≥ `minCosine` to sentence-transformers' vector.
 * Returns the cosines, for the caller's own summary.
 */
export async function checkAgainstReference(t: ExecutionContext, url: string, batchId: string, items: ReferenceItem[], minCosine: number): Promise<number[]> {
  const res = await postJson(`${url}/embed`, { batch_id: batchId, chunks: items.map((item) => ({ chunk_id: item.id, content: item.text })) });
  t.is(res.status, 200, res.text);
  const cosines: number[] = [];
  res.json.vectors.forEach((v: { chunk_id: string; vector: number[]; tokens: number; truncated: boolean }, i: number) => {
    const item = items[i]!;
    t.is(v.chunk_id, item.id);
    t.is(v.tokens, item.token_ids.length, item.id);
    t.is(v.truncated, item.truncated, item.id);
    const c = cosine(v.vector, item.embedding);
    cosines.push(c);
    t.true(c >= minCosine, `${item.id}: cosine ${c}`);
  });
  return cosines;
}
