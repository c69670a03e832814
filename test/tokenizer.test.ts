import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import test from 'ava';
import { defaultModelDir } from '../src/model/files.js';
import { ModelTokenizer } from '../src/workers/thread/tokenizer.js';
import { loadReference } from '../harness/reference.js';

/**
 * The service tokenizer (workers/thread/tokenizer.ts) against the Python reference's token ids; it
 * reads the model's tokenizer.json but runs no model. The embeddings themselves are held to the
 * reference in e2e/reference-parity.
 */
const reference = loadReference();

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
