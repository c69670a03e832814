import type { PolicyConfig } from '../src/supervisor/policy.js';

export const MB = 1024 * 1024;

/**
 * A supervisor policy for tests: a 1000 MB budget, batches of 8 to 64 on two workers, the service's
 * water marks, no recycling by task count or size; `overrides` set what a test is about.
 */
export function testPolicy(overrides: Partial<PolicyConfig> = {}): PolicyConfig {
  return {
    adaptive: true,
    budgetBytes: 1000 * MB,
    minBatchSize: 8,
    maxBatchSize: 64,
    maxConcurrency: 2,
    highWater: 0.9,
    lowWater: 0.75,
    growAfterSamples: 3,
    batchGrowStep: 8,
    maxPauseMs: 1000,
    recycleAfterTasks: 0,
    recycleAboveBytes: 0,
    reclaimAfterIdleMs: 2000,
    recycleMinIntervalMs: 0,
    recycleMaxBackoffMs: 60_000,
    gatedDispatch: false,
    arenaBytesFor: (batchSize) => batchSize * 10 * MB,
    ...overrides,
  };
}
