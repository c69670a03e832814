/**
 * The two load scenarios of the reliability suite, shared by `npm run loadtest` (long) and
 * test/load.test.ts (short): each returns the driver's report plus the promises it broke.
 */
import type { RunningServer } from '../../test/helpers/server.js';
import { runLoad, type CorpusChunk, type LoadReport } from './driver.js';

/**
 * The load server's queue bound: steady load (clients × largest request) stays under it, overload goes
 * far past it.
 */
export function loadServerEnv(maxQueuedChunks: number): Record<string, string> {
  return { EMBEDDING_MAX_QUEUED_CHUNKS: String(maxQueuedChunks), EMBEDDING_MAX_CHUNKS_PER_REQUEST: String(Math.min(256, maxQueuedChunks)) };
}

export interface ScenarioOptions {
  connections: number;
  durationS?: number;
  amount?: number;
  sizes: [number, number];
}

export interface ScenarioResult {
  report: LoadReport;
  budget: number;
  failures: string[];
}

async function memoryBudget(url: string): Promise<number> {
  const health = (await (await fetch(`${url}/health`)).json()) as { supervisor?: { budget_bytes?: number } };
  return health.supervisor?.budget_bytes ?? Number.POSITIVE_INFINITY;
}

async function stillServes(url: string, corpus: readonly CorpusChunk[]): Promise<string | undefined> {
  const res = await fetch(`${url}/embed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ batch_id: 'after', chunks: corpus.slice(0, 8).map((c) => ({ chunk_id: c.id, content: c.text })) }),
  });
  const body = (await res.json()) as { embeddings?: unknown[] };
  return res.status === 200 && body.embeddings?.length === 8 ? undefined : `a normal request afterwards got HTTP ${res.status}`;
}

export async function runSteady(
  server: RunningServer,
  corpus: readonly CorpusChunk[],
  alone: ReadonlyMap<string, number[]>,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const budget = await memoryBudget(server.url);
  const report = await runLoad({ url: server.url, pid: server.proc.pid!, corpus, alone, ...options });
  const failures: string[] = [];
  const other = Object.entries(report.byStatus).filter(([s]) => s !== '200');
  if (other.length > 0) failures.push(`non-200 answers under steady load: ${JSON.stringify(report.byStatus)}`);
  if (report.transportErrors > 0) failures.push(`${report.transportErrors} requests got no answer (${report.timeouts} timeouts)`);
  if (report.peakRss > budget) failures.push(`peak RSS ${report.peakRss} over the budget ${budget}`);
  if (report.chunksOk === 0) failures.push('no chunk was embedded');
  return { report, budget, failures };
}

export async function runOverload(
  server: RunningServer,
  corpus: readonly CorpusChunk[],
  alone: ReadonlyMap<string, number[]>,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const budget = await memoryBudget(server.url);
  const report = await runLoad({ url: server.url, pid: server.proc.pid!, corpus, alone, ...options });
  const failures: string[] = [];
  const other = Object.entries(report.byStatus).filter(([s]) => s !== '200' && s !== '503');
  if (other.length > 0) failures.push(`answers other than 200 and 503 under overload: ${JSON.stringify(report.byStatus)}`);
  if (!report.byStatus['503']) failures.push('overload never got a 503: the queue bound did not engage');
  if (!report.byStatus['200']) failures.push('overload accepted nothing');
  if (report.transportErrors > 0) failures.push(`${report.transportErrors} requests got no answer (${report.timeouts} timeouts)`);
  if (report.peakRss > budget) failures.push(`peak RSS ${report.peakRss} over the budget ${budget}`);
  const after = await stillServes(server.url, corpus);
  if (after) failures.push(after);
  return { report, budget, failures };
}
