/**
 * Large JSON requests, `parallel` at a time, until the chunks run out or the time bound passes; a
 * 503 is retried after its Retry-After, as a well-behaved indexer would. Every answer is checked.
 */
import type { SourceChunk } from '../../harness/source-corpus.js';
import { post, readAll } from './post.js';
import { OrderCheck, addOrderReports, emptyOrderReport, type OrderReport } from './order-check.js';

export interface JsonLoadOptions {
  url: string;
  chunks: readonly SourceChunk[];
  perRequest: number;
  parallel: number;
  deadlineMs: number;
  batchPrefix: string;
}

export interface JsonLoadResult {
  requests: number;
  statuses: Record<string, number>;
  /** 503s that were retried; the chunks of a retried request are counted once. */
  retried503: number;
  /** Requests still running at the time bound, abandoned: not answered, and not a broken promise. */
  cutByTime: number;
  /** Non-retryable failures (a 4xx or 5xx other than 503, a dropped connection): their chunks never came back. */
  failures: string[];
  chunksSent: number;
  chunksReceived: number;
  order: OrderReport;
  seconds: number;
}

export async function runJsonLoad(options: JsonLoadOptions): Promise<JsonLoadResult> {
  const { url, chunks, perRequest, parallel } = options;
  const started = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.deadlineMs);
  const result: JsonLoadResult = { requests: 0, statuses: {}, retried503: 0, cutByTime: 0, failures: [], chunksSent: 0, chunksReceived: 0, order: emptyOrderReport(), seconds: 0 };
  const count = (status: number) => (result.statuses[status] = (result.statuses[status] ?? 0) + 1);
  let next = 0;

  const one = async (start: number) => {
    const slice = chunks.slice(start, start + perRequest);
    const body = JSON.stringify({ batch_id: `${options.batchPrefix}-${start}`, chunks: slice.map((c) => ({ chunk_id: c.id, content: c.text })) });
    result.requests++;
    result.chunksSent += slice.length;
    for (;;) {
      const res = await post(`${url}/embed`, body, 'application/json', deadline.signal);
      count(res.status);
      const text = await readAll(res.body);
      if (res.status === 503) {
        result.retried503++;
        await new Promise((resolve) => setTimeout(resolve, 1000 * Number(res.headers['retry-after'] ?? 1)));
        if (deadline.signal.aborted) throw deadline.signal.reason;
        continue;
      }
      if (res.status !== 200) {
        result.failures.push(`request at chunk ${start}: HTTP ${res.status} ${text.slice(0, 200)}`);
        return;
      }
      const check = new OrderCheck(slice.map((c) => c.id));
      for (const e of (JSON.parse(text) as { vectors: Array<{ chunk_id: unknown; vector: unknown }> }).vectors) check.push(e.chunk_id, e.vector);
      const report = check.report(true);
      result.order = addOrderReports(result.order, report);
      result.chunksReceived += report.received;
      return;
    }
  };

  const client = async () => {
    while (next < chunks.length && !deadline.signal.aborted) {
      const start = next;
      next += perRequest;
      try {
        await one(start);
      } catch (error) {
        if (deadline.signal.aborted) result.cutByTime++;
        else result.failures.push(`request at chunk ${start}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, client));
  clearTimeout(timer);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
