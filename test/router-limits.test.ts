import test from 'ava';
import { useApp } from '../harness/app.js';

/**
 * EMBEDDING_MAX_CHUNKS_PER_REQUEST on both routes (router/limits.ts, schemas.ts), in process; and no limit on one
 * chunk's length (issue 12): EMBEDDING_MAX_CHUNK_CHARS is where the embedder cuts a text, never a refusal.
 */
const MAX_CHUNKS = 200;
const MAX_CHARS = 5000;
const app = useApp(test, { EMBEDDING_MAX_CHUNK_CHARS: String(MAX_CHARS), EMBEDDING_MAX_CHUNKS_PER_REQUEST: String(MAX_CHUNKS) });

const embed = (body: unknown) => app.post('/embed', body);
const v1 = (body: unknown) => app.post('/v1/embeddings', body);

test('a chunk over EMBEDDING_MAX_CHUNK_CHARS is accepted on both routes; too many chunks is 413', async (t) => {
  const big = await embed({
    batch_id: 'b',
    chunks: [
      { chunk_id: 'fine', content: 'ok' },
      { chunk_id: 'src/huge.min.js#1', content: 'a '.repeat(MAX_CHARS) },
    ],
  });
  t.is(big.status, 200, big.text);
  t.is(big.json.vectors.length, 2);

  const many = await embed({ batch_id: 'b', chunks: Array.from({ length: MAX_CHUNKS + 1 }, (_, i) => ({ chunk_id: `c${i}`, content: 'x' })) });
  t.is(many.status, 413);
  t.is(many.json.error.code, 'too_many_chunks');
  t.is((await embed({ batch_id: 'b', chunks: Array.from({ length: MAX_CHUNKS }, (_, i) => ({ chunk_id: `c${i}`, content: 'x' })) })).status, 200);

  const openAiLong = await v1({ model: 'm', input: ['ok', 'a '.repeat(MAX_CHARS)] });
  t.is(openAiLong.status, 200, openAiLong.text);
  t.is(openAiLong.json.data.length, 2);
  const openAiMany = await v1({ model: 'm', input: Array.from({ length: MAX_CHUNKS + 1 }, () => 'x') });
  t.is(openAiMany.status, 413);
  t.is(openAiMany.json.error.code, 'too_many_chunks');
});
