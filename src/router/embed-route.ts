import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { EmbedService } from '../core/embedder.js';
import type { EmbedRequest } from './schemas.js';
import { ApiError, errorBody } from './errors.js';
import { ChunkedWriter, vectorJson } from './json-stream.js';
import { logWork } from './request-log.js';
import { parseEmbedRequest } from './validation.js';

export const NDJSON = 'application/x-ndjson';

/** Aborts when the client goes away before its response is complete, so queued batches are dropped. */
export function clientGone(req: Request): AbortSignal {
  const controller = new AbortController();
  req.res!.on('close', () => {
    if (!req.res!.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

/** POST /embed: the original service's API. */
export function embedRoute(embedder: EmbedService, modelId: string): RequestHandler {
  return async (req, res) => {
    const started = performance.now();
    const request = parseEmbedRequest(req.body);
    if (req.accepts(['application/json', NDJSON]) === NDJSON) {
      await streamNdjson(req, res, embedder, modelId, request, started);
      return;
    }
    const { chunks } = request;
    const result = await embedder.embed(
      chunks.map((c) => c.content),
      clientGone(req),
    );
    let tokens = 0;
    for (const t of result.tokens) tokens += t;
    logWork(res, { chunks: chunks.length, tokens });
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

const chunkLine = (chunkId: string, vectors: Float32Array, row: number, dims: number, tokens: number, truncated: boolean) =>
  `{"chunk_id":${JSON.stringify(chunkId)},"embedding":${vectorJson(vectors, row, dims)},"tokens":${tokens},"truncated":${truncated}}`;

/**
 * `Accept: application/x-ndjson`: one line per chunk, in request order, written as each window of
 * batches finishes, then a summary line (the JSON response without `embeddings`). The server holds
 * at most two windows of vectors, whatever the request's size. A failure before the first line is an
 * ordinary JSON error; after it, the stream ends with an `{"error":{…}}` line and no summary line.
 */
async function streamNdjson(req: Request, res: Response, embedder: EmbedService, modelId: string, request: EmbedRequest, started: number): Promise<void> {
  const { chunks } = request;
  const windows = embedder.stream(
    chunks.map((c) => c.content),
    clientGone(req),
  );
  // The first window is awaited before the status line, so early failures get a proper status.
  let next = await windows.next();
  res.status(200).set('Content-Type', `${NDJSON}; charset=utf-8`);
  const out = new ChunkedWriter(res);
  let tokens = 0;
  try {
    for (; !next.done; next = await windows.next()) {
      const w = next.value;
      for (let row = 0; row < w.count; row++) {
        const i = w.offset + row;
        tokens += w.tokens[row]!;
        const line = chunkLine(chunks[i]!.chunk_id, w.vectors, row, w.dims, w.tokens[row]!, w.truncated[row] === 1);
        if (!(await out.write(line + '\n'))) {
          await windows.return();
          return;
        }
      }
      // Lines reach the client as their window finishes, not when 64 KB have gathered.
      if (!(await out.flush())) {
        await windows.return();
        return;
      }
    }
  } catch (error) {
    if (res.destroyed) return;
    const known = error instanceof ApiError;
    if (!known) ((req as { log?: Logger }).log)?.error({ err: error }, 'NDJSON stream failed after its first line');
    await out.end(JSON.stringify(errorBody(known ? error.code : 'internal_error', known ? error.message : 'a batch failed; the stream is incomplete')) + '\n');
    return;
  }
  const timing = Math.round((performance.now() - started) * 100) / 100;
  logWork(res, { chunks: chunks.length, tokens });
  await out.end(
    `{"batch_id":${JSON.stringify(request.batch_id)},"model":${JSON.stringify(modelId)},"dimensions":${embedder.dims},"usage":{"chunks":${chunks.length},"tokens":${tokens}},"timing_ms":${timing}}\n`,
  );
}
