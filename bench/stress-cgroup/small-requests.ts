/**
 * Small requests at a steady rate (open loop: one every `everyMs` whether or not the last was
 * answered), as an editor or a search box would send them, each timed and checked. They are what
 * the "answered within 30 s" promise is measured on.
 */
import { prng } from '../../harness/corpus.js';
import type { SourceChunk } from '../../harness/source-corpus.js';
import { percentile } from '../../harness/stats.js';
import { OrderCheck, addOrderReports, emptyOrderReport, type OrderReport } from './order-check.js';

export const SMALL_PROMISE_MS = 30_000;

export interface SmallOptions {
  everyMs: number;
  maxChunks: number;
  /** Each chunk is cut to its first lines: full 40-line chunks at this rate would ask for the whole CPU on their own. */
  lines: number;
  timeoutS: number;
  seed?: number;
}

interface SmallAttempt {
  sentAt: number;
  /** Milliseconds to the whole answer; for an unanswered request, how long it had waited when given up. */
  ms: number;
  status: number | 'unanswered' | 'network-error';
}

export interface SmallSummary {
  sent: number;
  chunks: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The longest any small request waited: answered or not. */
  longestWaitMs: number;
  /** Requests not answered within 30 s (late answers and unanswered alike). */
  over30s: number;
  /** Longest stretch in which no small request got a 200: how long a client retrying on 503 would wait. */
  longestWithout200Ms: number;
  order: OrderReport;
}

export function startSmallRequests(url: string, corpus: readonly SourceChunk[], options: SmallOptions): { stop(): Promise<SmallSummary> } {
  const rand = prng(options.seed ?? 17);
  const attempts: SmallAttempt[] = [];
  const inFlight = new Set<Promise<void>>();
  let order = emptyOrderReport();
  let chunks = 0;
  const origin = performance.now();

  const send = (k: number) => {
    const n = 1 + Math.floor(rand() * options.maxChunks);
    const start = Math.floor(rand() * (corpus.length - n));
    const body = corpus.slice(start, start + n).map((c, i) => ({ chunk_id: `small-${k}-${i}`, content: c.text.split('\n').slice(0, options.lines).join('\n') }));
    chunks += n;
    const sentAt = performance.now();
    const attempt: SmallAttempt = { sentAt: sentAt - origin, ms: NaN, status: 'unanswered' };
    attempts.push(attempt);
    const done = (async () => {
      try {
        const res = await fetch(`${url}/embed`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ batch_id: `small-${k}`, chunks: body }),
          signal: AbortSignal.timeout(options.timeoutS * 1000),
        });
        const text = await res.text();
        attempt.status = res.status;
        if (res.status === 200) {
          const check = new OrderCheck(body.map((c) => c.chunk_id));
          for (const e of (JSON.parse(text) as { vectors: Array<{ chunk_id: unknown; vector: unknown }> }).vectors) check.push(e.chunk_id, e.vector);
          order = addOrderReports(order, check.report(true));
        }
      } catch (error) {
        attempt.status = (error as Error).name === 'TimeoutError' ? 'unanswered' : 'network-error';
      }
      attempt.ms = performance.now() - sentAt;
    })();
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  let k = 0;
  const timer = setInterval(() => send(k++), options.everyMs);
  return {
    async stop() {
      clearInterval(timer);
      const stoppedAt = performance.now() - origin;
      await Promise.all(inFlight);
      return summarize(attempts, order, chunks, stoppedAt);
    },
  };
}

function summarize(attempts: readonly SmallAttempt[], order: OrderReport, chunks: number, stoppedAt: number): SmallSummary {
  const statuses: Record<string, number> = {};
  for (const a of attempts) statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
  const answered = attempts.filter((a) => typeof a.status === 'number').map((a) => a.ms);
  const okTimes = attempts.filter((a) => a.status === 200).map((a) => a.sentAt + a.ms).sort((x, y) => x - y);
  let longestWithout200 = 0;
  let last = 0;
  for (const t of [...okTimes, Math.max(stoppedAt, okTimes.at(-1) ?? 0)]) {
    longestWithout200 = Math.max(longestWithout200, t - last);
    last = t;
  }
  return {
    sent: attempts.length,
    chunks,
    statuses,
    p50Ms: percentile(answered, 50),
    p99Ms: percentile(answered, 99),
    maxMs: answered.length ? Math.max(...answered) : NaN,
    longestWaitMs: attempts.length ? Math.max(...attempts.map((a) => a.ms)) : 0,
    over30s: attempts.filter((a) => typeof a.status !== 'number' || a.ms > SMALL_PROMISE_MS).length,
    longestWithout200Ms: longestWithout200,
    order,
  };
}
