import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { EmbeddedRows } from '../core/batch-runner.js';
import type { EmbedService } from '../core/embedder.js';
import type { EmbedRequest } from './schemas.js';
import { batchEvents } from './batch-events.js';
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

/** The code a failure is answered (or logged) with, for the batch_failed event. */
function failureCode(error: unknown, res: Response): string {
  if (error instanceof ApiError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return res.destroyed ? 'client_disconnected' : 'internal_error';
}

/**
 * POST /embed: the original worker's API and wire format (`{batch_id, vectors: [{chunk_id, vector}]}`), with this
 * service's fields beside them. Every valid request logs its batch events (batch-events.ts), as the original did.
 */
export function embedRoute(embedder: EmbedService, modelId: string): RequestHandler {
  return async (req, res) => {
    const started = performance.now();
    const request = parseEmbedRequest(req.body);
    const log = (req as { log?: Logger }).log;
    const events = log ? batchEvents(log, request.batch_id, request.chunks.length) : undefined;
    try {
      const ndjson = req.accepts(['application/json', NDJSON]) === NDJSON;
      const failure = ndjson ? await streamNdjson(req, res, embedder, modelId, request, started) : await respondJson(req, res, embedder, modelId, request, started);
      if (failure === undefined) events?.completed();
      else events?.failed(failure);
    } catch (error) {
      events?.failed(failureCode(error, res));
      throw error;
    }
  };
}

/**
 * What became of an answer once its status line was sent: undefined when it was written in full, else the code of the
 * failure (`client_disconnected` when the client went away). Failures before the status line are thrown.
 */
type Outcome = string | undefined;

/** The whole answer as one JSON document. */
async function respondJson(req: Request, res: Response, embedder: EmbedService, modelId: string, request: EmbedRequest, started: number): Promise<Outcome> {
  const { chunks } = request;
  const result = await embedder.embed(
    chunks.map((c) => c.content),
    clientGone(req),
    { longInput: request.long_input },
  );
  let tokens = 0;
  for (const t of result.tokens) tokens += t;
  logWork(res, { chunks: chunks.length, tokens });
  const timing = Math.round((performance.now() - started) * 100) / 100;

  res.status(200).type('application/json');
  const out = new ChunkedWriter(res);
  // batch_id and vectors first, as the original wrote them; this service's fields follow.
  await out.write(`{"batch_id":${JSON.stringify(request.batch_id)},"vectors":[`);
  for (let i = 0; i < chunks.length; i++) {
    const line = chunkLine(chunks[i]!.chunk_id, result, i);
    if (!(await out.write(i > 0 ? `,${line}` : line))) return 'client_disconnected';
  }
  await out.end(
    `],"model":${JSON.stringify(modelId)},"dimensions":${result.dims},"usage":{"chunks":${chunks.length},"tokens":${tokens}},"timing_ms":${timing}}`,
  );
  return res.destroyed ? 'client_disconnected' : undefined;
}

/**
 * One chunk's answer, the original's ChunkVector (`chunk_id`, `vector`) with this service's `tokens` and `truncated`,
 * and its `windows` when the request asked for them (long_input windows). `row` counts from `rows.offset`.
 */
function chunkLine(chunkId: string, rows: EmbeddedRows, row: number): string {
  const line = `{"chunk_id":${JSON.stringify(chunkId)},"vector":${vectorJson(rows.vectors, row, rows.dims)},"tokens":${rows.tokens[row]!},"truncated":${rows.truncated[row] === 1}`;
  const windows = rows.windows?.[row];
  if (!windows) return line + '}';
  const parts = windows.map((w) => `{"start":${w.start},"end":${w.end},"tokens":${w.tokens},"vector":${vectorJson(w.vector, 0, rows.dims)}}`);
  return `${line},"windows":[${parts.join(',')}]}`;
}

/**
 * `Accept: application/x-ndjson`: one line per chunk (a ChunkVector), in request order, written as each window of
 * batches finishes, then a summary line (the JSON response without `vectors`). The server holds
 * at most two windows of vectors, whatever the request's size. A failure before the first line is an
 * ordinary JSON error; after it, the stream ends with an `{"error":{…}}` line and no summary line.
 */
async function streamNdjson(req: Request, res: Response, embedder: EmbedService, modelId: string, request: EmbedRequest, started: number): Promise<Outcome> {
  const { chunks } = request;
  const windows = embedder.stream(
    chunks.map((c) => c.content),
    clientGone(req),
    { longInput: request.long_input },
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
        const line = chunkLine(chunks[i]!.chunk_id, w, row);
        if (!(await out.write(line + '\n'))) {
          await windows.return();
          return 'client_disconnected';
        }
      }
      // Lines reach the client as their window finishes, not when 64 KB have gathered.
      if (!(await out.flush())) {
        await windows.return();
        return 'client_disconnected';
      }
    }
  } catch (error) {
    // The status line is sent: the failure is reported in the stream, and to the caller for the batch_failed event.
    if (res.destroyed) return 'client_disconnected';
    const known = error instanceof ApiError;
    if (!known) ((req as { log?: Logger }).log)?.error({ err: error }, 'NDJSON stream failed after its first line');
    await out.end(JSON.stringify(errorBody(known ? error.code : 'internal_error', known ? error.message : 'a batch failed; the stream is incomplete')) + '\n');
    return failureCode(error, res);
  }
  const timing = Math.round((performance.now() - started) * 100) / 100;
  logWork(res, { chunks: chunks.length, tokens });
  await out.end(
    `{"batch_id":${JSON.stringify(request.batch_id)},"model":${JSON.stringify(modelId)},"dimensions":${embedder.dims},"usage":{"chunks":${chunks.length},"tokens":${tokens}},"timing_ms":${timing}}\n`,
  );
  return res.destroyed ? 'client_disconnected' : undefined;
}
