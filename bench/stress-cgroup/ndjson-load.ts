/**
 * One giant request answered as NDJSON, read line by line until it ends or the time bound passes
 * (then the client hangs up, which withdraws the server's queued batches). Each line is checked as
 * it arrives. The body is sent as NDJSON, streamed with the server's backpressure (`ndjson`), or as
 * one JSON document (`json`), which the server reads whole before any work.
 */
import { NDJSON, ndjsonLines } from '../../harness/ndjson.js';
import type { SourceChunk } from '../../harness/source-corpus.js';
import { post, postPieces, readAll, type PostAnswer } from './post.js';

export type GiantBody = 'ndjson' | 'json';
import { OrderCheck, type OrderReport } from './order-check.js';

export interface NdjsonLoadResult {
  /** How the request body was sent (absent in runs saved before streamed bodies existed: json). */
  body?: GiantBody;
  status: number | null;
  /** 503s answered before the stream began, retried after Retry-After. */
  retried503: number;
  bodyBytes: number;
  chunksSent: number;
  /** Chunk lines that arrived (the summary line and any error line excluded). */
  linesReceived: number;
  /** The summary line arrived: the stream is whole. */
  complete: boolean;
  cutByTime: boolean;
  errorLine: string | null;
  failure: string | null;
  firstLineS: number | null;
  order: OrderReport;
  seconds: number;
}

/** The NDJSON body's lines gathered into pieces of about 64 KiB (one write each, not one per line). */
function* ndjsonPieces(chunks: readonly SourceChunk[]): Generator<string> {
  let piece = '';
  for (const line of ndjsonLines('giant', chunks.map((c) => ({ chunk_id: c.id, content: c.text })))) {
    piece += line;
    if (piece.length >= 65_536) {
      yield piece;
      piece = '';
    }
  }
  if (piece.length > 0) yield piece;
}

export async function runNdjsonLoad(url: string, chunks: readonly SourceChunk[], deadlineMs: number, bodyKind: GiantBody = 'ndjson'): Promise<NdjsonLoadResult> {
  const started = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deadlineMs);
  const json = bodyKind === 'json' ? JSON.stringify({ batch_id: 'giant', chunks: chunks.map((c) => ({ chunk_id: c.id, content: c.text })) }) : null;
  let bodyBytes = 0;
  if (json !== null) bodyBytes = Buffer.byteLength(json);
  else for (const piece of ndjsonPieces(chunks)) bodyBytes += Buffer.byteLength(piece);
  const send = () =>
    json !== null
      ? post(`${url}/embed`, json, NDJSON, deadline.signal)
      : postPieces(`${url}/embed`, ndjsonPieces(chunks), NDJSON, NDJSON, deadline.signal);
  const check = new OrderCheck(chunks.map((c) => c.id));
  const result: NdjsonLoadResult = {
    body: bodyKind, status: null, retried503: 0, bodyBytes, chunksSent: chunks.length, linesReceived: 0, complete: false,
    cutByTime: false, errorLine: null, failure: null, firstLineS: null, order: check.report(false), seconds: 0,
  };
  try {
    let res: PostAnswer;
    for (;;) {
      res = await send();
      result.status = res.status;
      if (res.status !== 503) break;
      result.retried503++;
      await readAll(res.body);
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(res.headers['retry-after'] ?? 1)));
    }
    if (res.status !== 200) {
      result.failure = `HTTP ${res.status} ${(await readAll(res.body)).slice(0, 200)}`;
    } else {
      const decoder = new TextDecoder();
      let pending = '';
      for await (const piece of res.body) {
        pending += decoder.decode(piece, { stream: true });
        let newline;
        while ((newline = pending.indexOf('\n')) !== -1) {
          const line = JSON.parse(pending.slice(0, newline)) as { chunk_id?: unknown; vector?: unknown; usage?: unknown; error?: unknown };
          pending = pending.slice(newline + 1);
          if (line.error !== undefined) result.errorLine = JSON.stringify(line.error).slice(0, 300);
          else if (line.usage !== undefined) result.complete = true;
          else {
            result.firstLineS ??= (performance.now() - started) / 1000;
            result.linesReceived++;
            check.push(line.chunk_id, line.vector);
          }
        }
      }
    }
  } catch (error) {
    if (deadline.signal.aborted) result.cutByTime = true;
    else result.failure = (error as Error).message;
  }
  clearTimeout(timer);
  deadline.abort(); // hang up if the stream is still open
  result.order = check.report(result.complete);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
