import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ShrinkableCache } from '../cache/memory-tier.js';
import type { RuntimeLimits } from '../core/runtime-limits.js';
import { largestBatchBytes, MAX_SEQ_LENGTH } from '../model/spec.js';
import { resolveBudget } from './budget.js';
import { cgroupAtRoot, findOwnCgroup, readCgroupMemory } from './cgroup.js';
import type { PolicyConfig } from './policy.js';
import { HeadroomGate } from './headroom-gate.js';
import { createSystemSampler, type Sampler } from './sample.js';
import { MemorySupervisor, type SupervisedPool } from './loop.js';

export { MemorySupervisor } from './loop.js';
export type { SupervisorReport } from './loop.js';

/** Fractions of the budget: shrink at or above HIGH_WATER, grow only below LOW_WATER. */
export const HIGH_WATER = 0.9;
export const LOW_WATER = 0.75;
/** Calm readings in a row before each growth step. */
export const GROW_AFTER_SAMPLES = 3;
/** Idle this long above the low-water mark, workers that ran work are recycled to free their arenas. */
export const RECLAIM_AFTER_IDLE_MS = 2000;
/** Pressure recycles at least 10 s apart, backing off to 5 minutes while they free nothing. */
export const RECYCLE_MIN_INTERVAL_MS = 10_000;
export const RECYCLE_MAX_BACKOFF_MS = 300_000;

export type SupervisorConfig = Pick<
  Config,
  | 'maxMemoryPercent'
  | 'maxMemoryMb'
  | 'adaptiveBatching'
  | 'memorySampleMs'
  | 'maxPauseMs'
  | 'workerMaxTasks'
  | 'workerMaxMb'
  | 'cgroupRoot'
  | 'minBatchSize'
  | 'maxBatchSize'
  | 'workers'
  | 'maxBatchTokens'
> &
  Partial<Pick<Config, 'maxSeqLength'>>;

/** Where the process's memory limit is and the budget it gives at start, read once by the service before the pool exists. */
export interface StartBudget {
  location: Awaited<ReturnType<typeof findOwnCgroup>>;
  cgroup: Awaited<ReturnType<typeof readCgroupMemory>>;
  budget: ReturnType<typeof resolveBudget>;
}

type BudgetConfig = Pick<Config, 'maxMemoryPercent' | 'maxMemoryMb'>;
const budgetReader = (config: BudgetConfig) => (reading: StartBudget['cgroup']) =>
  resolveBudget({ percent: config.maxMemoryPercent, absoluteMb: config.maxMemoryMb, totalBytes: os.totalmem(), cgroup: reading });

/** Finds the process's memory cgroup (or takes EMBEDDING_CGROUP_ROOT) and the budget its tightest limit allows. */
export async function readStartBudget(config: BudgetConfig & Pick<Config, 'cgroupRoot'>): Promise<StartBudget> {
  const location = config.cgroupRoot ? await cgroupAtRoot(config.cgroupRoot) : await findOwnCgroup();
  const cgroup = await readCgroupMemory(location);
  return { location, cgroup, budget: budgetReader(config)(cgroup) };
}

/**
 * Builds the supervisor from config: finds the process's memory cgroup (or takes EMBEDDING_CGROUP_ROOT),
 * sets the budget from the tightest limit over it and its ancestors, then samples on its interval,
 * re-reading the limit each time.
 */
export async function createSupervisor(
  config: SupervisorConfig,
  deps: { limits: RuntimeLimits; pool: SupervisedPool; logger: Logger; sampler?: Sampler; cache?: ShrinkableCache | undefined; start?: StartBudget },
): Promise<MemorySupervisor> {
  const { location, cgroup, budget } = deps.start ?? (await readStartBudget(config));
  const budgetFor = budgetReader(config);
  const seq = config.maxSeqLength ?? MAX_SEQ_LENGTH;
  const policy: PolicyConfig = {
    adaptive: config.adaptiveBatching,
    budgetBytes: budget.budgetBytes,
    minBatchSize: config.minBatchSize,
    maxBatchSize: config.maxBatchSize,
    maxConcurrency: config.workers,
    highWater: HIGH_WATER,
    lowWater: LOW_WATER,
    growAfterSamples: GROW_AFTER_SAMPLES,
    batchGrowStep: Math.max(1, Math.round(config.maxBatchSize / 8)),
    maxPauseMs: config.maxPauseMs,
    recycleAfterTasks: config.workerMaxTasks,
    recycleAboveBytes: config.workerMaxMb * 1024 * 1024,
    reclaimAfterIdleMs: RECLAIM_AFTER_IDLE_MS,
    recycleMinIntervalMs: RECYCLE_MIN_INTERVAL_MS,
    recycleMaxBackoffMs: RECYCLE_MAX_BACKOFF_MS,
    gatedDispatch: true,
    // The worst batch the planner may form under both caps, by the batch memory model, with rows as long as
    // EMBEDDING_MAX_SEQ_LENGTH allows (a 512-token row costs more than twice a 256-token one: attention is quadratic).
    arenaBytesFor: (batchSize) => largestBatchBytes(batchSize, config.maxBatchTokens, seq),
  };
  return new MemorySupervisor({
    policy,
    budget,
    rebudget: budgetFor,
    cgroup,
    gate: new HeadroomGate({ budgetBytes: budget.budgetBytes, usedBytes: process.memoryUsage.rss(), pool: deps.pool, maxSeqLength: seq }),
    sampleIntervalMs: config.memorySampleMs,
    sampler: deps.sampler ?? createSystemSampler({ cgroup: location }),
    limits: deps.limits,
    pool: deps.pool,
    logger: deps.logger,
    ...(deps.cache ? { cache: deps.cache } : {}),
  });
}
