import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { EmbeddedRows } from '../core/batch-runner.js';
import type { EmbedService } from '../core/embedder.js';
import type { EmbedRequest } from './schemas.js';
import { batchEvents, type BatchEvents } from '../core/batch-events.js';
import { ApiError, errorBody } from './errors.js';
import { bodyClock } from './http-server.js';
import { vectorJson } from '../core/vector-encoding.js';
import { ChunkedWriter } from './json-stream.js';
import { drainRest, NdjsonChunkReader, type NdjsonBodyLimits } from './ndjson-body.js';
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
 * service's fields beside them. Every valid request logs its batch events (core/batch-events.ts), as the original did.
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
    `],"model":${JSON.stringify(modelId)},"dimensions":${result.dims},"usage":{"chunks":${chunks.length},"tokens":${tokens},"cached_chunks":${result.cached ?? 0}},"timing_ms":${timing}}`,
  );
  return res.destroyed ? 'client_disconnected' : undefined;
}

/**
 * One chunk's answer, the original's ChunkVector (`chunk_id`, `vector`) with this service's `tokens` and `truncated`,
 * and its `windows` when the request asked for them (long_input windows). `row` counts from `rows.offset`.
 */
function chunkLine(chunkId: string, rows: EmbeddedRows, row: number, cut = false): string {
  const line = `{"chunk_id":${JSON.stringify(chunkId)},"vector":${vectorJson(rows.vectors, row, rows.dims)},"tokens":${rows.tokens[row]!},"truncated":${rows.truncated[row] === 1 || cut}`;
  const windows = rows.windows?.[row];
  if (!windows) return line + '}';
  const parts = windows.map((w) => `{"start":${w.start},"end":${w.end},"tokens":${w.tokens},"vector":${vectorJson(w.vector, 0, rows.dims)}}`);
  return `${line},"windows":[${parts.join(',')}]}`;
}

/** Where an NDJSON answer's chunk ids come from, by chunk index: the parsed body's array, or the streamed body's reader. */
interface ChunkIds {
  chunkId(index: number): string;
  /** Cut before tokenizing where the embedder could not see it (the streamed body cuts as it parses). */
  wasCut?(index: number): boolean;
  /** Every chunk before `index` is answered. */
  forget?(index: number): void;
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
  return writeNdjson(req, res, windows, { chunkId: (i) => chunks[i]!.chunk_id }, { modelId, dims: embedder.dims, batchId: request.batch_id, started });
}

interface Summary {
  modelId: string;
  dims: number;
  batchId: string;
  started: number;
}

async function writeNdjson(req: Request, res: Response, windows: AsyncGenerator<EmbeddedRows, void, undefined>, ids: ChunkIds, summary: Summary): Promise<Outcome> {
  // The first window is awaited before the status line, so early failures get a proper status.
  let next = await windows.next();
  res.status(200).set('Content-Type', `${NDJSON}; charset=utf-8`);
  const out = new ChunkedWriter(res);
  let tokens = 0;
  let cached = 0;
  let count = 0;
  try {
    for (; !next.done; next = await windows.next()) {
      const w = next.value;
      cached += w.cached ?? 0;
      for (let row = 0; row < w.count; row++) {
        const i = w.offset + row;
        tokens += w.tokens[row]!;
        const line = chunkLine(ids.chunkId(i), w, row, ids.wasCut?.(i) ?? false);
        if (!(await out.write(line + '\n'))) {
          await windows.return();
          return 'client_disconnected';
        }
      }
      count += w.count;
      ids.forget?.(w.offset + w.count);
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
  const timing = Math.round((performance.now() - summary.started) * 100) / 100;
  logWork(res, { chunks: count, tokens });
  await out.end(
    `{"batch_id":${JSON.stringify(summary.batchId)},"model":${JSON.stringify(summary.modelId)},"dimensions":${summary.dims},"usage":{"chunks":${count},"tokens":${tokens},"cached_chunks":${cached}},"timing_ms":${timing}}\n`,
  );
  return res.destroyed ? 'client_disconnected' : undefined;
}

/**
 * POST /embed with `Content-Type: application/x-ndjson`: the body is read line by line as it arrives (ndjson-body.ts)
 * and embedded window by window, and the answer is the NDJSON stream above whatever the Accept header says, so a
 * request of any number of chunks holds a bounded window in memory. The body's time limit becomes an idle limit
 * (BodyClock.idle): a client is timed while the server reads, not while backpressure holds it up. A bad line answers
 * 4xx when it comes before any chunk was answered; after, every chunk before it is answered, then an error line.
 */
export function embedStreamedRoute(embedder: EmbedService, modelId: string, limits: Omit<NdjsonBodyLimits, 'windowChunks'>): RequestHandler {
  return async (req, res) => {
    const started = performance.now();
    const reader = new NdjsonChunkReader(req, { ...limits, windowChunks: () => embedder.windowSize });
    const clock = bodyClock(req);
    if (clock) {
      clock.idle();
      clock.onExpire = () => reader.fail(new ApiError('request_timeout', `no part of the body arrived for ${clock.timeoutMs} ms while the server was reading (EMBEDDING_REQUEST_TIMEOUT_MS)`));
    }
    const log = (req as { log?: Logger }).log;
    let events: BatchEvents | undefined;
    try {
      const header = await reader.header();
      if (header.long_input !== undefined && header.long_input !== 'truncate') {
        // Windows of texts still arriving are not built yet: refuse rather than silently truncate.
        throw new ApiError('validation_failed', `long_input "${header.long_input}" is not available for a body streamed as NDJSON: send these chunks as a JSON body`, { param: 'long_input' });
      }
      events = log ? batchEvents(log, header.batch_id, null) : undefined;
      const windows = embedder.streamFrom(reader, clientGone(req));
      const failure = await writeNdjson(req, res, windows, reader, { modelId, dims: embedder.dims, batchId: header.batch_id, started });
      if (failure === undefined) events?.completed(reader.received);
      else events?.failed(failure, undefined, reader.received);
    } catch (error) {
      events?.failed(failureCode(error, res), undefined, reader.received);
      throw error;
    } finally {
      reader.close();
      drainRest(req);
      // A body still arriving after the answer is discarded, and still timed: a client that stops sending is cut off.
      if (req.complete) clock?.stop();
      else if (clock) clock.onExpire = undefined;
    }
  };
}
