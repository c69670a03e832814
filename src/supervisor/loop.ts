import type { Logger } from 'pino';
import type { RuntimeLimits } from '../core/runtime-limits.js';
import type { SupervisorGauges } from '../metrics.js';
import type { WorkerSnapshot } from '../workers/pool.js';
import type { MemoryBudget } from './budget.js';
import { decide, initialState, type Action, type PolicyConfig, type PolicyState } from './policy.js';
import { memoryInUse, type MemorySample, type Sampler } from './sample.js';
import type { CgroupMemory } from './cgroup.js';
import type { HeadroomGate, HeadroomReport } from './headroom-gate.js';
import { admitRequest } from './headroom.js';
import type { ShrinkableCache } from '../cache/memory-tier.js';
import { steerCache } from './cache-policy.js';

/** What the supervisor needs from the worker pool. */
export interface SupervisedPool {
  readonly workers: number;
  readonly recycles: number;
  snapshot(): WorkerSnapshot[];
  recycle(id: number): Promise<void>;
  /** Milliseconds with no batch running or waiting; 0 while busy. */
  idleForMs(): number;
}

export interface SupervisorOptions {
  policy: PolicyConfig;
  budget: MemoryBudget;
  /** The budget a cgroup reading implies; asked at every sample, so a limit changed at run time moves the budget. */
  rebudget?: (cgroup: CgroupMemory) => MemoryBudget;
  /** The cgroup reading the budget was first set from, for the start-up log and /health before the first sample. */
  cgroup?: CgroupMemory;
  /** Holds back batches the budget cannot take (issue 19); told every reading. */
  gate?: HeadroomGate;
  sampleIntervalMs: number;
  sampler: Sampler;
  limits: RuntimeLimits;
  pool: SupervisedPool;
  logger: Logger;
  now?: () => number;
  /** The embedding cache's memory tier: counted in the budget and shrunk first under pressure (cache-policy.ts). */
  cache?: ShrinkableCache;
}

/** The supervisor's state as /health shows it (snake_case, like the rest of the API). */
export interface SupervisorReport {
  adaptive: boolean;
  budget_bytes: number;
  budget_source: MemoryBudget['source'];
  limit_bytes: number;
  limit_file: string | null;
  rss_bytes: number;
  peak_rss_bytes: number;
  usage_ratio: number;
  pressure: PolicyState['level'];
  cpu_percent: number;
  cgroup: {
    version: 1 | 2 | null;
    path: string | null;
    limit_bytes: number | null;
    limit_file: string | null;
    usage_bytes: number | null;
    working_set_bytes: number | null;
  };
  batch_size: number;
  min_batch_size: number;
  max_batch_size: number;
  concurrency: number;
  max_concurrency: number;
  paused: boolean;
  refusing: boolean;
  workers: Array<{ id: number; role: WorkerSnapshot['role']; state: WorkerSnapshot['state']; busy: boolean; tasks: number; estimated_bytes: number }>;
  recycles: number;
  /** Memory the pressure recycles freed so far, from the readings before and after each. */
  recycle_freed_bytes: number;
  /** How long the next pressure recycle must wait after the last (it doubles while recycles free nothing). */
  recycle_backoff_ms: number;
  adjustments: number;
  sample_interval_ms: number;
  /** The dispatch check: headroom left, memory reserved by started batches, the largest full-length batch that fits now. */
  headroom?: HeadroomReport;
}

/**
 * Samples memory on an interval, asks the policy what to do and does it: sets RuntimeLimits (which
 * the scheduler obeys at once), pauses dispatch, refuses new requests, recycles workers. Every
 * action is logged with its reason and the numbers behind it.
 */
export class MemorySupervisor {
  readonly #options: SupervisorOptions;
  readonly #now: () => number;
  /** The budget and the policy that carries it; both move when the cgroup limit does. */
  #budget: MemoryBudget;
  #policy: PolicyConfig;
  #state: PolicyState;
  #last: MemorySample | undefined;
  #ratio = 0;
  #peakRss = 0;
  #adjustments = 0;
  /** RSS once the workers were loaded, before any work: the footprint admission by cost counts from. */
  #idleBytes = process.memoryUsage.rss();
  /** Memory the pressure recycles freed, by the readings before and after each (for /metrics). */
  #recycleFreedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #recycling: Promise<void> | undefined;
  /** Calm readings in a row since the cache's bound last moved. */
  #cacheCalm = 0;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#budget = options.budget;
    this.#policy = options.policy;
    this.#state = initialState(options.policy);
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), this.#options.sampleIntervalMs);
    this.#timer.unref();
    const budget = this.#budget;
    const policy = this.#policy;
    const cgroup = this.#options.cgroup;
    this.#options.logger.info(
      {
        supervisor: 'start',
        budget_bytes: budget.budgetBytes,
        budget_source: budget.source,
        limit_bytes: budget.limitBytes,
        limit_file: budget.limitFile,
        cgroup_version: cgroup?.version ?? null,
        cgroup_path: cgroup?.path ?? null,
        adaptive: policy.adaptive,
        sample_interval_ms: this.#options.sampleIntervalMs,
      },
      `memory supervisor: budget ${mb(budget.budgetBytes)} (${budget.source}${budget.limitFile ? `: ${budget.limitFile}` : ''}), limit ${mb(budget.limitBytes)}` +
        (cgroup?.path ? `, cgroup v${cgroup.version} ${cgroup.path}` : ', no memory cgroup seen'),
    );
    const idle = process.memoryUsage.rss();
    this.#idleBytes = idle;
    this.#options.gate?.idle(idle);
    // The cache's memory tier fills up to its bound: count it now, before it holds anything.
    const floorBatch = policy.arenaBytesFor(policy.minBatchSize) + (this.#options.cache?.configuredBytes ?? 0);
    if (idle + floorBatch > budget.budgetBytes) {
      this.#options.logger.error(
        { supervisor: 'budget-too-small', rss_bytes: idle, floor_batch_bytes: floorBatch, budget_bytes: budget.budgetBytes },
        `memory supervisor: the idle footprint (${mb(idle)}) plus one batch at the floor and the cache's bound (${mb(floorBatch)}: EMBEDDING_MIN_BATCH_SIZE rows within ` +
          `EMBEDDING_MAX_BATCH_TOKENS, and EMBEDDING_CACHE_MB) exceeds the ${mb(budget.budgetBytes)} budget by ${mb(idle + floorBatch - budget.budgetBytes)}; batches will run ` +
          'in smaller pieces or wait. Fix: raise the memory limit or EMBEDDING_MAX_MEMORY_PERCENT/EMBEDDING_MAX_MEMORY_MB, lower EMBEDDING_WORKERS, EMBEDDING_CACHE_MB or EMBEDDING_MIN_BATCH_SIZE',
      );
    } else if (idle >= budget.budgetBytes * policy.lowWater) {
      this.#options.logger.warn(
        { supervisor: 'budget-tight', rss_bytes: idle, budget_bytes: budget.budgetBytes },
        `memory supervisor: the idle footprint (${mb(idle)}) leaves little or no room in the ${mb(budget.budgetBytes)} budget; expect small batches, waits and 503s`,
      );
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Admission by cost (headroom.ts, admitRequest): the router asks it for each request before reading its body. */
  admitRequest(bodyBytes: number | undefined): ReturnType<typeof admitRequest> {
    return admitRequest({
      bodyBytes,
      refusing: this.#state.refusing,
      headroomBytes: this.#options.gate?.report().headroom_bytes ?? 0,
      budgetBytes: this.#budget.budgetBytes,
      idleBytes: this.#idleBytes,
    });
  }

  /** The dispatch check the scheduler asks before each batch, when there is one. */
  get gate(): HeadroomGate | undefined {
    return this.#options.gate;
  }

  /** New requests should be answered 503 (memory over budget at the floor for too long). */
  get refusing(): boolean {
    return this.#state.refusing;
  }

  /** Seconds a refused client should wait: a few sampling rounds, at least one second. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.#options.sampleIntervalMs * 4) / 1000));
  }

  get state(): Readonly<PolicyState> {
    return this.#state;
  }

  /** One sampling round; the interval calls it, tests may too. Rounds never overlap. */
  async tick(): Promise<Action[]> {
    if (this.#ticking) return [];
    this.#ticking = true;
    try {
      const takenAt = this.#options.gate?.now();
      const sample = await this.#options.sampler();
      this.#last = sample;
      this.#peakRss = Math.max(this.#peakRss, sample.rssBytes);
      this.#follow(sample);
      if (takenAt !== undefined) {
        this.#options.gate!.sampled(memoryInUse(sample), this.#budget.budgetBytes, takenAt);
        // Batches held back for headroom are looked at again with the new reading.
        this.#options.limits.recheck();
      }
      const { pool } = this.#options;
      const decision = decide(this.#state, { now: this.#now(), usedBytes: memoryInUse(sample), workers: pool.snapshot(), idleMs: pool.idleForMs() }, this.#policy);
      this.#state = decision.state;
      this.#ratio = decision.ratio;
      for (const action of decision.actions) this.#apply(action, sample, decision.ratio);
      this.#steerCache(decision.state.level, sample);
      return decision.actions;
    } catch (err) {
      this.#options.logger.warn({ err, supervisor: 'sample-failed' }, 'memory supervisor: sampling failed');
      return [];
    } finally {
      this.#ticking = false;
    }
  }

  /** The cache's memory tier: shrunk at high and critical pressure, grown back when calm; each move logged as a decision. */
  #steerCache(level: PolicyState['level'], sample: MemorySample): void {
    const cache = this.#options.cache;
    if (!cache) return;
    this.#cacheCalm = level === 'calm' ? this.#cacheCalm + 1 : 0;
    const moved = steerCache(cache, level, this.#cacheCalm, this.#policy.growAfterSamples);
    if (!moved) return;
    this.#cacheCalm = 0;
    this.#adjustments++;
    this.#options.logger.info(
      { supervisor: 'cache', from: moved.from, to: moved.to, freed_bytes: moved.freedBytes, reason: moved.reason, rss_bytes: sample.rssBytes, budget_bytes: this.#budget.budgetBytes },
      `memory supervisor: cache bound ${mb(moved.from)} → ${mb(moved.to)} (${moved.reason})`,
    );
  }

  /** A cgroup limit that moved (raised, lowered, set or removed) moves the budget: logged as a decision. */
  #follow(sample: MemorySample): void {
    const next = this.#options.rebudget?.(sample.cgroup);
    if (!next || next.budgetBytes === this.#budget.budgetBytes) return;
    const from = this.#budget;
    this.#budget = next;
    this.#policy = { ...this.#policy, budgetBytes: next.budgetBytes };
    this.#adjustments++;
    this.#options.logger.warn(
      {
        supervisor: 'budget',
        from: from.budgetBytes,
        to: next.budgetBytes,
        budget_source: next.source,
        limit_bytes: next.limitBytes,
        limit_file: next.limitFile,
        reason: 'the memory limit changed',
      },
      `memory supervisor: budget ${mb(from.budgetBytes)} → ${mb(next.budgetBytes)} (limit ${mb(next.limitBytes)}${next.limitFile ? `, ${next.limitFile}` : ''})`,
    );
  }

  #apply(action: Action, sample: MemorySample, ratio: number): void {
    const { limits, pool, logger } = this.#options;
    const budget = this.#budget;
    this.#adjustments++;
    const numbers = {
      supervisor: action.type,
      rss_bytes: sample.rssBytes,
      budget_bytes: budget.budgetBytes,
      ratio: Math.round(ratio * 1000) / 1000,
      level: this.#state.level,
      batch_size: this.#state.batchSize,
      concurrency: this.#state.concurrency,
      reason: action.reason,
    };
    switch (action.type) {
      case 'batch-size':
        limits.batchSize = action.to;
        logger.info({ ...numbers, from: action.from, to: action.to }, `memory supervisor: batch size ${action.from} → ${action.to}`);
        break;
      case 'concurrency':
        limits.concurrency = action.to;
        logger.info({ ...numbers, from: action.from, to: action.to }, `memory supervisor: concurrency ${action.from} → ${action.to}`);
        break;
      case 'pause':
        limits.paused = true;
        logger.warn(numbers, 'memory supervisor: new batches wait');
        break;
      case 'resume':
        limits.paused = false;
        logger.info(numbers, 'memory supervisor: batches dispatch again');
        break;
      case 'refuse':
        logger.warn(numbers, 'memory supervisor: refusing new requests (503)');
        break;
      case 'admit':
        logger.info(numbers, 'memory supervisor: accepting new requests again');
        break;
      case 'recycle-result':
        if (action.freedBytes > 0) this.#recycleFreedBytes += action.freedBytes;
        (action.helped ? logger.info : logger.warn).call(
          logger,
          { ...numbers, freed_bytes: action.freedBytes, helped: action.helped, backoff_ms: action.backoffMs },
          `memory supervisor: ${action.reason}`,
        );
        break;
      case 'recycle': {
        if (this.#recycling) break;
        const started = this.#now();
        logger.info({ ...numbers, worker: action.worker, cause: action.cause }, `memory supervisor: recycling worker ${action.worker}`);
        this.#recycling = pool
          .recycle(action.worker)
          .then(
            () => logger.info({ supervisor: 'recycled', worker: action.worker, cause: action.cause, ms: this.#now() - started, recycles: pool.recycles }, `memory supervisor: worker ${action.worker} replaced`),
            (err: unknown) => logger.error({ err, supervisor: 'recycle-failed', worker: action.worker }, 'memory supervisor: recycling a worker failed'),
          )
          .finally(() => {
            this.#recycling = undefined;
          });
        break;
      }
    }
  }

  /** Resolves when a recycle in progress (if any) is done; for tests and shutdown. */
  async settled(): Promise<void> {
    await this.#recycling;
  }

  report(): SupervisorReport {
    const { limits, pool } = this.#options;
    const budget = this.#budget;
    const policy = this.#policy;
    const rss = this.#last?.rssBytes ?? process.memoryUsage.rss();
    const cgroup = this.#last?.cgroup ?? this.#options.cgroup;
    return {
      adaptive: policy.adaptive,
      budget_bytes: budget.budgetBytes,
      budget_source: budget.source,
      limit_bytes: budget.limitBytes,
      limit_file: budget.limitFile,
      rss_bytes: rss,
      peak_rss_bytes: Math.max(this.#peakRss, rss),
      usage_ratio: Math.round((this.#last ? this.#ratio : rss / budget.budgetBytes) * 1000) / 1000,
      pressure: this.#state.level,
      cpu_percent: Math.round((this.#last?.cpuPercent ?? 0) * 10) / 10,
      cgroup: {
        version: cgroup?.version ?? null,
        path: cgroup?.path ?? null,
        limit_bytes: cgroup?.limitBytes ?? null,
        limit_file: cgroup?.limitFile ?? null,
        usage_bytes: cgroup?.usageBytes ?? null,
        working_set_bytes: cgroup?.workingSetBytes ?? null,
      },
      batch_size: limits.batchSize,
      min_batch_size: limits.minBatchSize,
      max_batch_size: limits.maxBatchSize,
      concurrency: limits.concurrency,
      max_concurrency: limits.maxConcurrency,
      paused: limits.paused,
      refusing: this.#state.refusing,
      workers: pool.snapshot().map((w) => ({ id: w.id, role: w.role, state: w.state, busy: w.busy, tasks: w.tasks, estimated_bytes: w.estimatedBytes })),
      recycles: pool.recycles,
      recycle_freed_bytes: this.#recycleFreedBytes,
      recycle_backoff_ms: this.#state.recycleBackoffMs,
      adjustments: this.#adjustments,
      sample_interval_ms: this.#options.sampleIntervalMs,
      ...(this.#options.gate ? { headroom: this.#options.gate.report() } : {}),
    };
  }
}

const PRESSURE_LEVELS: Record<PolicyState['level'], number> = { calm: 0, elevated: 1, high: 2, critical: 3 };

/** The supervisor's /health report as the numbers /metrics exports. */
export function supervisorGauges(report: SupervisorReport): SupervisorGauges {
  return {
    batchSize: report.batch_size,
    concurrency: report.concurrency,
    workers: report.workers.length,
    recycles: report.recycles,
    recycleFreedBytes: report.recycle_freed_bytes,
    rssBytes: report.rss_bytes,
    budgetBytes: report.budget_bytes,
    usageRatio: report.usage_ratio,
    pressure: PRESSURE_LEVELS[report.pressure],
    ...(report.headroom ? { headroomBytes: report.headroom.headroom_bytes, maxRowsAtFullLength: report.headroom.max_rows_at_full_length } : {}),
  };
}

const mb = (bytes: number) => `${Math.round(bytes / 1048576)} MB`;
