/**
 * EMBEDDING_MAX_SEQ_LENGTH=512 (issue 12): the original Python worker truncated at 512 word pieces, the model's
 * position-embedding size, where sentence-transformers (and this service by default) stops at 256. At 512 the
 * service must match sentence-transformers run with max_seq_length 512 (scripts/reference/reference-512.json,
 * made by make_reference.py --max-seq-length 512), which is what the original computed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { defaultModelDir } from '../../src/model/files.js';
import { ModelTokenizer } from '../../src/workers/thread/tokenizer.js';
import { checkAgainstReference, loadReference } from '../../harness/reference.js';
import { cosine, startServer } from '../../harness/server.js';

const at256 = loadReference();
const at512 = loadReference('reference-512.json');

test('the 512 fixture holds texts between 256 and 512 word pieces, where the two settings disagree', (t) => {
  t.is(at512.max_seq_length, 512);
  t.deepEqual(
    at512.items.map((i) => i.id),
    at256.items.map((i) => i.id),
  );
  const between = at512.items.filter((item, i) => item.token_ids.length > 256 && !item.truncated && at256.items[i]!.truncated);
  t.true(between.length >= 3, `${between.length} texts of 257–511 pieces`);
  t.true(at512.items.filter((i) => i.truncated).length >= 3);
  for (const item of between) {
    const short = at256.items.find((i) => i.id === item.id)!;
    // Further apart than the parity bar below: a service cutting at 256 would fail it on these texts.
    t.true(cosine(item.embedding, short.embedding) < 0.99999, `${item.id}: the settings must give different vectors`);
  }
});

test('token ids at 512 are identical to the Python tokenizer for every reference text', (t) => {
  const tokenizer = ModelTokenizer.fromFile(path.join(defaultModelDir(), 'tokenizer.json'), 512);
  for (const item of at512.items) {
    const { ids, truncated } = tokenizer.encode(item.text);
    t.deepEqual(ids, item.token_ids, item.id);
    t.is(truncated, item.truncated, item.id);
  }
});

test('a sequence length beyond the model’s 512 positions is refused', (t) => {
  const json = JSON.parse(readFileSync(path.join(defaultModelDir(), 'tokenizer.json'), 'utf8')) as object;
  t.throws(() => new ModelTokenizer(json, 513), { instanceOf: RangeError });
});

test.serial('EMBEDDING_MAX_SEQ_LENGTH=512: every reference text through the server has cosine ≥ 0.99999 to sentence-transformers at 512', async (t) => {
  const server = await startServer({ EMBEDDING_MAX_SEQ_LENGTH: '512' });
  try {
    await server.waitReady();
    const health = (await (await fetch(`${server.url}/health`)).json()) as { max_seq_length: number };
    t.is(health.max_seq_length, 512);
    const cosines = await checkAgainstReference(t, server.url, 'parity-512', at512.items, 0.99999);
    t.log(`512: lowest cosine ${Math.min(...cosines).toFixed(9)}`);
  } finally {
    t.is(await server.stop(), 0);
  }
});
