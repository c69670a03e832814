import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { RuntimeLimits } from '../core/runtime-limits.js';
import { MAX_SEQ_LENGTH } from '../model/spec.js';
import { ARENA_BYTES_PER_TOKEN } from '../workers/pool.js';
import { resolveBudget } from './budget.js';
import { cgroupAtRoot, findOwnCgroup, readCgroupMemory } from './cgroup.js';
import type { PolicyConfig } from './policy.js';
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

/**
 * Builds the supervisor from config: finds the process's memory cgroup (or takes EMBEDDING_CGROUP_ROOT),
 * sets the budget from the tightest limit over it and its ancestors, then samples on its interval,
 * re-reading the limit each time.
 */
export async function createSupervisor(
  config: SupervisorConfig,
  deps: { limits: RuntimeLimits; pool: SupervisedPool; logger: Logger; sampler?: Sampler },
): Promise<MemorySupervisor> {
  const location = config.cgroupRoot ? await cgroupAtRoot(config.cgroupRoot) : await findOwnCgroup();
  const cgroup = await readCgroupMemory(location);
  const budgetFor = (reading: typeof cgroup) =>
    resolveBudget({ percent: config.maxMemoryPercent, absoluteMb: config.maxMemoryMb, totalBytes: os.totalmem(), cgroup: reading });
  const budget = budgetFor(cgroup);
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
    // A batch holds at most batchSize full-length chunks and at most about maxBatchTokens padded tokens, but one chunk
    // longer than the token budget runs alone (EMBEDDING_MAX_SEQ_LENGTH 512 against the default budget of 256).
    arenaBytesFor: (batchSize) => Math.max(seq, Math.min(batchSize * seq, config.maxBatchTokens)) * ARENA_BYTES_PER_TOKEN,
  };
  return new MemorySupervisor({
    policy,
    budget,
    rebudget: budgetFor,
    cgroup,
    sampleIntervalMs: config.memorySampleMs,
    sampler: deps.sampler ?? createSystemSampler({ cgroup: location }),
    limits: deps.limits,
    pool: deps.pool,
    logger: deps.logger,
  });
}
