/** /health sampled on an interval: the supervisor's view of memory (RSS, the cgroup's working set) against its budget. */

/** The part of /health → supervisor this script reads. */
export interface SupervisorHealth {
  budget_bytes: number;
  limit_bytes: number;
  limit_file: string | null;
  rss_bytes: number;
  peak_rss_bytes: number;
  pressure: string;
  batch_size: number;
  concurrency: number;
  paused: boolean;
  refusing: boolean;
  recycles: number;
  cgroup: { version: number | null; path: string | null; limit_bytes: number | null; usage_bytes: number | null; working_set_bytes: number | null };
}

export interface HealthSample {
  /** Seconds since the scenario's load started. */
  t: number;
  rss: number;
  workingSet: number | null;
  budget: number;
  limit: number;
  batch: number;
  concurrency: number;
  pressure: string;
  paused: boolean;
  refusing: boolean;
  recycles: number;
}

export async function readSupervisor(url: string, timeoutMs = 2000): Promise<SupervisorHealth> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  return ((await res.json()) as { supervisor: SupervisorHealth }).supervisor;
}

/**
 * Samples until stopped. Rounds never overlap (a slow /health delays the next one), and a /health
 * that fails or takes over 2 s counts as a failure: a blocked event loop shows up there.
 */
export function sampleHealth(url: string, everyMs: number, origin: number): { stop(): Promise<{ samples: HealthSample[]; failures: number }> } {
  const samples: HealthSample[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const due = performance.now() + everyMs;
      try {
        const s = await readSupervisor(url);
        samples.push({
          t: (performance.now() - origin) / 1000,
          rss: s.rss_bytes,
          workingSet: s.cgroup.working_set_bytes,
          budget: s.budget_bytes,
          limit: s.limit_bytes,
          batch: s.batch_size,
          concurrency: s.concurrency,
          pressure: s.pressure,
          paused: s.paused,
          refusing: s.refusing,
          recycles: s.recycles,
        });
      } catch {
        failures++;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, failures };
    },
  };
}

export interface HealthSummary {
  samples: number;
  failures: number;
  peakRss: number;
  /** The budget in force when RSS peaked (it moves when the limit does). */
  budgetAtPeakRss: number;
  peakWorkingSet: number | null;
  budgetAtPeakWorkingSet: number | null;
  /** Highest max(RSS, working set) / budget over the samples. */
  maxRatio: number;
  budgets: number[];
  lowestBatch: number;
  lowestConcurrency: number;
  /** Share of samples in which the server was refusing new requests, or holding batches back. */
  refusingShare: number;
  pausedShare: number;
  pressureCounts: Record<string, number>;
}

export function summarizeHealth(samples: readonly HealthSample[], failures: number): HealthSummary {
  let peak = samples[0];
  let peakWs = samples[0];
  let maxRatio = 0;
  const pressureCounts: Record<string, number> = {};
  for (const s of samples) {
    if (s.rss > peak!.rss) peak = s;
    if ((s.workingSet ?? 0) > (peakWs!.workingSet ?? 0)) peakWs = s;
    maxRatio = Math.max(maxRatio, Math.max(s.rss, s.workingSet ?? 0) / s.budget);
    pressureCounts[s.pressure] = (pressureCounts[s.pressure] ?? 0) + 1;
  }
  const share = (pick: (s: HealthSample) => boolean) => (samples.length === 0 ? 0 : samples.filter(pick).length / samples.length);
  return {
    samples: samples.length,
    failures,
    peakRss: peak?.rss ?? 0,
    budgetAtPeakRss: peak?.budget ?? 0,
    peakWorkingSet: peakWs?.workingSet ?? null,
    budgetAtPeakWorkingSet: peakWs?.budget ?? null,
    maxRatio,
    budgets: [...new Set(samples.map((s) => s.budget))],
    lowestBatch: Math.min(...samples.map((s) => s.batch)),
    lowestConcurrency: Math.min(...samples.map((s) => s.concurrency)),
    refusingShare: share((s) => s.refusing),
    pausedShare: share((s) => s.paused),
    pressureCounts,
  };
}
