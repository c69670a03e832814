import test from 'ava';
import { ErrorResponse, OpenAIErrorResponse } from '../src/router/schemas.js';
import { useApp } from '../harness/app.js';

/** EMBEDDING_MAX_CHUNK_CHARS and EMBEDDING_MAX_CHUNKS_PER_REQUEST on both routes (router/limits.ts, schemas.ts), in process. */
const MAX_CHUNKS = 200;
const MAX_CHARS = 5000;
const app = useApp(test, { EMBEDDING_MAX_CHUNK_CHARS: String(MAX_CHARS), EMBEDDING_MAX_CHUNKS_PER_REQUEST: String(MAX_CHUNKS) });

const embed = (body: unknown) => app.post('/embed', body);
const v1 = (body: unknown) => app.post('/v1/embeddings', body);

test('a chunk over EMBEDDING_MAX_CHUNK_CHARS is 413 naming its chunk_id; too many chunks is 413', async (t) => {
  const big = await embed({
    batch_id: 'b',
    chunks: [
      { chunk_id: 'fine', content: 'ok' },
      { chunk_id: 'src/huge.min.js#1', content: 'a'.repeat(MAX_CHARS + 1) },
    ],
  });
  t.is(big.status, 413);
  const error = ErrorResponse.parse(big.json).error;
  t.is(error.code, 'chunk_too_large');
  t.regex(error.message, /chunks\[1\]\.content \(chunk_id "src\/huge\.min\.js#1"\)/);
  t.is((await embed({ batch_id: 'b', chunks: [{ chunk_id: 'edge', content: 'a'.repeat(MAX_CHARS) }] })).status, 200);

  const many = await embed({ batch_id: 'b', chunks: Array.from({ length: MAX_CHUNKS + 1 }, (_, i) => ({ chunk_id: `c${i}`, content: 'x' })) });
  t.is(many.status, 413);
  t.is(many.json.error.code, 'too_many_chunks');
  t.is((await embed({ batch_id: 'b', chunks: Array.from({ length: MAX_CHUNKS }, (_, i) => ({ chunk_id: `c${i}`, content: 'x' })) })).status, 200);

  const openAiLong = await v1({ model: 'm', input: ['ok', 'a'.repeat(MAX_CHARS + 1)] });
  t.is(openAiLong.status, 413);
  t.like(OpenAIErrorResponse.parse(openAiLong.json).error, { code: 'chunk_too_large', param: 'input' });
  t.regex(openAiLong.json.error.message, /^input\[1\]/);
  const openAiMany = await v1({ model: 'm', input: Array.from({ length: MAX_CHUNKS + 1 }, () => 'x') });
  t.is(openAiMany.status, 413);
  t.is(openAiMany.json.error.code, 'too_many_chunks');
});
