import type { Request, RequestHandler } from 'express';
import type { Embedder } from '../core/embedder.js';
import { ChunkedWriter, vectorJson } from './json-stream.js';
import { parseEmbedRequest } from './validation.js';

/** Aborts when the client goes away before its response is complete, so queued batches are dropped. */
export function clientGone(req: Request): AbortSignal {
  const controller = new AbortController();
  req.res!.on('close', () => {
    if (!req.res!.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

/** POST /embed: the original service's API. */
export function embedRoute(embedder: Embedder, modelId: string): RequestHandler {
  return async (req, res) => {
    const started = performance.now();
    const request = parseEmbedRequest(req.body);
    const { chunks } = request;
    const result = await embedder.embed(
      chunks.map((c) => c.content),
      clientGone(req),
    );
    let tokens = 0;
    for (const t of result.tokens) tokens += t;
    const timing = Math.round((performance.now() - started) * 100) / 100;

    res.status(200).type('application/json');
    const out = new ChunkedWriter(res);
    await out.write(
      `{"batch_id":${JSON.stringify(request.batch_id)},"model":${JSON.stringify(modelId)},"dimensions":${result.dims},"embeddings":[`,
    );
    for (let i = 0; i < chunks.length; i++) {
      const ok = await out.write(
        `${i > 0 ? ',' : ''}{"chunk_id":${JSON.stringify(chunks[i]!.chunk_id)},"embedding":${vectorJson(result.vectors, i, result.dims)},"tokens":${result.tokens[i]},"truncated":${result.truncated[i] === 1}}`,
      );
      if (!ok) return;
    }
    await out.end(`],"usage":{"chunks":${chunks.length},"tokens":${tokens}},"timing_ms":${timing}}`);
  };
}
