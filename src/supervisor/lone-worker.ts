/**
 * Whether the service starts the lone worker (issue 16): an extra worker whose session has every core, for a batch
 * that is alone in the pool (a search query), measured at about 150-180 MB more RSS. Asked for by hand
 * (EMBEDDING_LONE_THREADS), it is started whatever the budget, and counted in it like any worker. Left unset, it is
 * started only where the budget has room to spare: a tight container keeps that memory for batches, where it buys
 * throughput, instead of a few milliseconds on a lone request (BENCHMARKS.md, "A lone request").
 */
import type { Config } from '../config.js';

/** Unset, the lone worker starts only under a budget of at least this (about four times the service's footprint with it). */
export const LONE_AUTO_MIN_BUDGET_BYTES = 2 * 2 ** 30;

/** The lone worker's intra-op threads under this budget; 0: no lone worker. */
export function loneWorkerThreads(config: Pick<Config, 'loneThreads' | 'loneAuto'>, budgetBytes: number): number {
  if (config.loneAuto && budgetBytes < LONE_AUTO_MIN_BUDGET_BYTES) return 0;
  return config.loneThreads;
}
