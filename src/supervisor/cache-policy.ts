/**
 * The memory tier of the embedding cache under the memory budget, as a pure function: its bytes are part
 * of the process's memory the budget is held to, and they are the cheapest memory to give back (every vector
 * can be computed again), so they go first. Tested with made-up numbers (test/cache-policy.test.ts).
 *
 *   critical (≥ 100% of the budget)   the tier is emptied, bound 0
 *   high (90–100%)                    the bound is halved from what the tier holds, at every such reading
 *   elevated (75–90%)                 unchanged: the band between shrinking and growing
 *   calm (< 75%)                      after the policy's calm readings in a row, the bound grows back by a quarter
 *                                     of EMBEDDING_CACHE_MB per step, up to it
 */
import type { ShrinkableCache } from '../cache/memory-tier.js';
import type { PressureLevel } from './policy.js';

export interface CacheCapInput {
  level: PressureLevel;
  /** Calm readings in a row since the bound last moved, and how many it takes to grow one step. */
  calmSamples: number;
  growAfterSamples: number;
  heldBytes: number;
  capBytes: number;
  configuredBytes: number;
}

/** The memory tier's next bound and why, or undefined to leave it. */
export function nextCacheCap(input: CacheCapInput): { capBytes: number; reason: string } | undefined {
  const { level, heldBytes, capBytes, configuredBytes } = input;
  if (level === 'critical') {
    return capBytes > 0 || heldBytes > 0 ? { capBytes: 0, reason: 'over budget: the cached vectors go first (they can be computed again)' } : undefined;
  }
  if (level === 'high') {
    const to = Math.floor(Math.min(capBytes, heldBytes) / 2);
    return to < capBytes ? { capBytes: to, reason: 'memory at 90% of the budget or more: the cache gives back half of what it holds first' } : undefined;
  }
  if (level === 'calm' && capBytes < configuredBytes && input.calmSamples >= input.growAfterSamples) {
    return { capBytes: Math.min(configuredBytes, capBytes + Math.ceil(configuredBytes / 4)), reason: 'calm: the cache may grow back towards EMBEDDING_CACHE_MB' };
  }
  return undefined;
}

/** Applies nextCacheCap to the tier; returns what was done, for the supervisor's decision log. */
export function steerCache(cache: ShrinkableCache, level: PressureLevel, calmSamples: number, growAfterSamples: number) {
  const next = nextCacheCap({ level, calmSamples, growAfterSamples, heldBytes: cache.bytes, capBytes: cache.capBytes, configuredBytes: cache.configuredBytes });
  if (next === undefined) return undefined;
  const from = cache.capBytes;
  const freedBytes = cache.setCap(next.capBytes);
  return { from, to: next.capBytes, freedBytes, reason: next.reason };
}
