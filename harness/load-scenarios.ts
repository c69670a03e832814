/**
 * The two load scenarios of the reliability suite, shared by `npm run loadtest` (long) and
 * test/e2e/load.test.ts (short): each returns the driver's report plus the promises it broke.
 */
import { runLoad, type CorpusChunk, type LoadReport } from './load-driver.js';
import { UNCACHED, type RunningServer } from './server.js';

/**
 * The load server's queue bound: steady load (clients × largest request) stays under it, overload goes
 * far past it.
 */
export function loadServerEnv(maxQueuedChunks: number): Record<string, string> {
  // The load is the model's work: repeated requests must reach the workers, not the embedding cache.
  return { ...UNCACHED, EMBEDDING_MAX_QUEUED_CHUNKS: String(maxQueuedChunks), EMBEDDING_MAX_CHUNKS_PER_REQUEST: String(Math.min(256, maxQueuedChunks)) };
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
  const body = (await res.json()) as { vectors?: unknown[] };
  return res.status === 200 && body.vectors?.length === 8 ? undefined : `a normal request afterwards got HTTP ${res.status}`;
}

/**
 * Runs load against a server and returns the report with the promises every scenario keeps: each
 * request answered with an allowed status, RSS within the budget.
 */
async function loadAndCheck(
  server: RunningServer,
  corpus: readonly CorpusChunk[],
  alone: ReadonlyMap<string, number[]>,
  options: ScenarioOptions,
  allowed: readonly string[],
): Promise<ScenarioResult> {
  const budget = await memoryBudget(server.url);
  const report = await runLoad({ url: server.url, pid: server.proc.pid!, corpus, alone, ...options });
  const failures: string[] = [];
  if (Object.keys(report.byStatus).some((s) => !allowed.includes(s))) {
    failures.push(`answers other than ${allowed.join(' and ')}: ${JSON.stringify(report.byStatus)}`);
  }
  if (report.transportErrors > 0) failures.push(`${report.transportErrors} requests got no answer (${report.timeouts} timeouts)`);
  if (report.peakRss > budget) failures.push(`peak RSS ${report.peakRss} over the budget ${budget}`);
  return { report, budget, failures };
}

export async function runSteady(
  server: RunningServer,
  corpus: readonly CorpusChunk[],
  alone: ReadonlyMap<string, number[]>,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const result = await loadAndCheck(server, corpus, alone, options, ['200']);
  if (result.report.chunksOk === 0) result.failures.push('no chunk was embedded');
  return result;
}

export async function runOverload(
  server: RunningServer,
  corpus: readonly CorpusChunk[],
  alone: ReadonlyMap<string, number[]>,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const result = await loadAndCheck(server, corpus, alone, options, ['200', '503']);
  const { report, failures } = result;
  if (!report.byStatus['503']) failures.push('overload never got a 503: the queue bound did not engage');
  if (!report.byStatus['200']) failures.push('overload accepted nothing');
  const after = await stillServes(server.url, corpus);
  if (after) failures.push(after);
  return result;
}
