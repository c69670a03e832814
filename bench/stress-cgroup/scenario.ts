/**
 * One scenario: a fresh child memory cgroup with a real limit, the real server started inside it,
 * a load plus the small-request stream, /health sampled throughout, the limit optionally lowered
 * mid-run; then the kernel's own figures, the supervisor's logged decisions, and teardown.
 */
import { createChildCgroup } from '../../harness/cgroup.js';
import { startServer, UNCACHED } from '../../harness/server.js';
import type { SourceChunk } from '../../harness/source-corpus.js';
import { countDecisions, type Decisions } from './decisions.js';
import { readSupervisor, sampleHealth, summarizeHealth, type HealthSample, type HealthSummary } from './health-sampler.js';
import type { JsonLoadResult } from './json-load.js';
import type { NdjsonLoadResult } from './ndjson-load.js';
import { startSmallRequests, type SmallOptions, type SmallSummary } from './small-requests.js';

const MiB = 2 ** 20;

export type LoadOutcome = { kind: 'json'; json: JsonLoadResult } | { kind: 'ndjson'; ndjson: NdjsonLoadResult };

export interface ScenarioSpec {
  key: 'a' | 'b' | 'c';
  title: string;
  limitMiB: number;
  /** Write a lower limit into the cgroup's limit file this long after the load starts. */
  lower?: { afterS: number; toMiB: number };
  /** One small request every this many milliseconds. */
  smallEveryMs: number;
  /** Server settings beyond the defaults (said in the report). */
  env: Record<string, string>;
  load(url: string): Promise<LoadOutcome>;
}

export interface ScenarioResult {
  key: ScenarioSpec['key'];
  title: string;
  limitMiB: number;
  lower: { afterS: number; toMiB: number; doneAtS: number | null; attempts: number; error: string | null } | null;
  env: Record<string, string>;
  smallEveryMs: number;
  cgroupVersion: 1 | 2;
  startupS: number;
  idle: { rss: number; budget: number; limit: number; limitFile: string | null };
  load: LoadOutcome;
  loadSeconds: number;
  chunksSent: number;
  chunksReceived: number;
  small: SmallSummary;
  health: HealthSummary;
  timeline: HealthSample[];
  kernel: { peakBytes: number | null; failcnt: number | null; oomKills: number | null };
  decisions: Decisions;
  recycles: number | null;
  /** Chunks the server embedded (its /metrics counter): large and small alike, including work on requests later cut by the time bound. */
  serverChunks?: number | null;
  /** Set if the server exited before the script stopped it (an OOM kill ends the whole process). */
  serverDied: { code: number | null; signal: string | null; atS: number } | null;
  serverExitCode: number | null;
}

export async function runScenario(spec: ScenarioSpec, corpus: readonly SourceChunk[], small: Omit<SmallOptions, 'everyMs'>, sampleMs: number): Promise<ScenarioResult> {
  const cgroup = await createChildCgroup(`doctown-stress-${spec.key}-${process.pid}`);
  if (typeof cgroup === 'string') throw new Error(`scenario ${spec.key}: no real kernel limit could be set up: ${cgroup}`);
  try {
    cgroup.setLimit(spec.limitMiB * MiB);
    const bootStarted = performance.now();
    // --expose-gc as `npm start` runs it: the workers collect after large batches.
    const server = await startServer({ EMBEDDING_CGROUP_ROOT: '', ...UNCACHED, ...spec.env }, { wrap: (argv) => cgroup.wrap([argv[0]!, '--expose-gc', ...argv.slice(1)]) });
    let stopping = false;
    let serverDied: ScenarioResult['serverDied'] = null;
    const origin = performance.now();
    server.proc.on('exit', (code, signal) => {
      if (!stopping) serverDied = { code, signal, atS: (performance.now() - origin) / 1000 };
    });
    await server.waitReady();
    const startupS = (performance.now() - bootStarted) / 1000;
    const idleHealth = await readSupervisor(server.url);

    const loadOrigin = performance.now();
    const sampler = sampleHealth(server.url, sampleMs, loadOrigin);
    const smalls = startSmallRequests(server.url, corpus, { ...small, everyMs: spec.smallEveryMs });
    const lower = spec.lower ? { ...spec.lower, doneAtS: null as number | null, attempts: 0, error: null as string | null } : null;
    let lowerTimer: NodeJS.Timeout | undefined;
    if (lower) {
      // The kernel refuses (EBUSY) a limit below what it cannot reclaim; try again each second, as an operator would.
      const attempt = () => {
        lower.attempts++;
        try {
          cgroup.setLimit(lower.toMiB * MiB);
          lower.doneAtS = (performance.now() - loadOrigin) / 1000;
          lower.error = null;
        } catch (error) {
          lower.error = (error as Error).message;
          if (lower.attempts < 30) lowerTimer = setTimeout(attempt, 1000);
        }
      };
      lowerTimer = setTimeout(attempt, lower.afterS * 1000);
    }
    const load = await spec.load(server.url);
    const loadSeconds = (performance.now() - loadOrigin) / 1000;
    clearTimeout(lowerTimer);
    const smallSummary = await smalls.stop();
    const { samples, failures } = await sampler.stop();
    const recycles = await readSupervisor(server.url).then((s) => s.recycles, () => null);
    const serverChunks = await serverChunkCount(server.url);
    stopping = true;
    const serverExitCode = await server.stop();
    const kernel = cgroup.stats();
    const [chunksSent, chunksReceived] = load.kind === 'json' ? [load.json.chunksSent, load.json.chunksReceived] : [load.ndjson.chunksSent, load.ndjson.linesReceived];
    return {
      key: spec.key,
      title: spec.title,
      limitMiB: spec.limitMiB,
      lower,
      env: spec.env,
      smallEveryMs: spec.smallEveryMs,
      cgroupVersion: cgroup.version,
      startupS,
      idle: { rss: idleHealth.rss_bytes, budget: idleHealth.budget_bytes, limit: idleHealth.limit_bytes, limitFile: idleHealth.limit_file },
      load,
      loadSeconds,
      chunksSent,
      chunksReceived,
      small: smallSummary,
      health: summarizeHealth(samples, failures),
      timeline: samples,
      kernel,
      decisions: countDecisions(server.logs),
      recycles,
      serverChunks,
      serverDied,
      serverExitCode,
    };
  } finally {
    cgroup.remove();
  }
}

/** embedding_chunks_total from /metrics, or null when the server no longer answers. */
async function serverChunkCount(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const value = /^embedding_chunks_total (\S+)$/m.exec(text)?.[1];
    return value === undefined ? null : Number(value);
  } catch {
    return null;
  }
}
