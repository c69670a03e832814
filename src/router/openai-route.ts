import type { RequestHandler } from 'express';
import type { z } from 'zod';
import type { EmbedService } from '../core/embedder.js';
import { clientGone } from './embed-route.js';
import { ApiError } from './errors.js';
import { vectorBase64, vectorJson } from '../core/vector-encoding.js';
import { ChunkedWriter } from './json-stream.js';
import { logWork } from './request-log.js';
import type { openAiEmbeddingRequest } from './schemas.js';
import { parseBody } from './validation.js';

/** OpenAI's `input` also takes token ids (number[] or number[][]) in its own tokenizer's vocabulary. */
function isTokenIdInput(input: unknown): boolean {
  return typeof input === 'number' || (Array.isArray(input) && input.some((x) => typeof x === 'number' || Array.isArray(x)));
}

/**
 * POST /v1/embeddings: OpenAI's embeddings API over the same embedder as /embed, so the official
 * clients (openai, LangChain's OpenAIEmbeddings) work by pointing their base URL here.
 */
export function openAiEmbeddingsRoute(embedder: EmbedService, modelId: string, schema: ReturnType<typeof openAiEmbeddingRequest>): RequestHandler {
  return async (req, res) => {
    const input = (req.body as { input?: unknown } | null)?.input;
    if (isTokenIdInput(input)) {
      throw new ApiError(
        'unsupported_input',
        'input: token-id arrays are not supported, because all-MiniLM-L6-v2 has its own WordPiece vocabulary; send text as a string or an array of strings (LangChain: set check_embedding_ctx_length=False)',
        { param: 'input' },
      );
    }
    const request: z.infer<typeof schema> = parseBody(schema, req.body);
    const texts = typeof request.input === 'string' ? [request.input] : request.input;
    const result = await embedder.embed(texts, clientGone(req), { longInput: request.long_input });
    let tokens = 0;
    for (const t of result.tokens) tokens += t;
    logWork(res, { chunks: texts.length, tokens });

    const base64 = request.encoding_format === 'base64';
    res.status(200).type('application/json');
    const out = new ChunkedWriter(res);
    await out.write('{"object":"list","data":[');
    const encode = (vectors: Float32Array, row: number) => (base64 ? `"${vectorBase64({ vectors, dims: result.dims }, row)}"` : vectorJson(vectors, row, result.dims));
    for (let i = 0; i < texts.length; i++) {
      // long_input windows: each input's windows, with their ranges, beside its embedding.
      const windows = result.windows?.[i]?.map((w) => `{"start":${w.start},"end":${w.end},"tokens":${w.tokens},"embedding":${encode(w.vector, 0)}}`);
      const extra = windows ? `,"windows":[${windows.join(',')}]` : '';
      const ok = await out.write(`${i > 0 ? ',' : ''}{"object":"embedding","index":${i},"embedding":${encode(result.vectors, i)}${extra}}`);
      if (!ok) return;
    }
    await out.end(`],"model":${JSON.stringify(modelId)},"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens},"cached_chunks":${result.cached ?? 0}}}`);
  };
}
