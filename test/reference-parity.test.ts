import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import test from 'ava';
import { defaultModelDir, projectRoot } from '../src/model/files.js';
import { ModelTokenizer } from '../src/core/tokenizer.js';
import { cosine, postJson, startServer } from './helpers/server.js';

interface ReferenceItem {
  id: string;
  text: string;
  token_ids: number[];
  truncated: boolean;
  embedding: number[];
}
const reference = JSON.parse(readFileSync(path.join(projectRoot(), 'scripts/reference/reference.json'), 'utf8')) as {
  items: ReferenceItem[];
};

test('the reference fixture covers what the issue asks for', (t) => {
  const ids = reference.items.map((i) => i.id);
  t.true(reference.items.length >= 60);
  t.true(reference.items.some((i) => i.text === ''));
  t.true(reference.items.some((i) => i.text.length > 0 && i.text.trim() === ''));
  t.true(reference.items.filter((i) => i.truncated).length >= 5);
  t.is(new Set(ids).size, ids.length);
});

test('token ids are identical to the Python tokenizer for every reference text', (t) => {
  const tokenizer = ModelTokenizer.fromFile(path.join(defaultModelDir(), 'tokenizer.json'));
  for (const item of reference.items) {
    const { ids, truncated } = tokenizer.encode(item.text);
    t.deepEqual(ids, item.token_ids, item.id);
    t.is(truncated, item.truncated, item.id);
  }
});

test('tokenizing a prefix of a huge text gives the same ids as tokenizing all of it', (t) => {
  const tokenizerPath = path.join(defaultModelDir(), 'tokenizer.json');
  const tokenizer = ModelTokenizer.fromFile(tokenizerPath);
  const plain = new Tokenizer(JSON.parse(readFileSync(tokenizerPath, 'utf8')), {});
  for (const item of reference.items.filter((i) => i.truncated)) {
    const huge = item.text.repeat(Math.ceil(200_000 / item.text.length));
    const whole = plain.encode(huge, { add_special_tokens: false }).ids;
    t.deepEqual(tokenizer.encode(huge), { ids: [101, ...whole.slice(0, 254), 102], truncated: true }, item.id);
    t.deepEqual(tokenizer.encode(huge).ids, item.token_ids, item.id);
  }
});

for (const [variant, threshold] of [
  ['fp32', 0.99999],
  ['int8', 0.99],
] as const) {
  test.serial(`${variant}: every reference text embedded through the server has cosine ≥ ${threshold} to sentence-transformers`, async (t) => {
    const server = await startServer({ EMBEDDING_MODEL_VARIANT: variant });
    try {
      await server.waitReady();
      const res = await postJson(`${server.url}/embed`, {
        batch_id: `parity-${variant}`,
        chunks: reference.items.map((item) => ({ chunk_id: item.id, content: item.text })),
      });
      t.is(res.status, 200, res.text);
      let worst = 1;
      res.json.embeddings.forEach((e: { chunk_id: string; embedding: number[]; tokens: number; truncated: boolean }, i: number) => {
        const item = reference.items[i]!;
        t.is(e.chunk_id, item.id);
        t.is(e.tokens, item.token_ids.length, item.id);
        t.is(e.truncated, item.truncated, item.id);
        const c = cosine(e.embedding, item.embedding);
        worst = Math.min(worst, c);
        t.true(c >= threshold, `${item.id}: cosine ${c}`);
      });
      t.log(`${variant}: lowest cosine to the reference ${worst.toFixed(9)} over ${reference.items.length} texts`);
    } finally {
      t.is(await server.stop(), 0);
    }
  });
}
