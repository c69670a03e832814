import type { CacheTierGauges } from '../metrics.js';
import type { CacheEntry } from './entry.js';

/**
 * A tier's counters, as /metrics shows them (embedding_cache_*{tier}): `up` (1 while it serves, 0 once it turned itself
 * off), hits, misses, evictions, corrupt (entries found damaged or unreadable, served as misses), entries and bytes.
 */
export type TierStats = CacheTierGauges;

/** One key and what to store under it. */
export interface CachePut {
  key: Buffer;
  entry: CacheEntry;
}

/**
 * One level of the cache: in memory, on disk, or (in the queue worker mode) a JetStream key-value bucket
 * shared by every worker. The tiered cache asks the tiers in order and fills every tier with what the
 * model computed. A tier never throws and never returns a wrong vector: anything it cannot read intact is a
 * miss, and a tier whose store fails turns itself off with one warning, leaving the others serving.
 */
export interface CacheTier {
  readonly name: string;
  /** The entries for `keys`, in order, undefined for each miss. May be answered at once or later (a bucket over the network). */
  get(keys: readonly Buffer[]): Promise<(CacheEntry | undefined)[]> | (CacheEntry | undefined)[];
  /** Stores entries; may write later (in the background, in batches), and never fails the caller. */
  put(entries: readonly CachePut[]): void;
  stats(): TierStats;
  /** Writes what is still pending and releases the store. */
  close(): Promise<void>;
}

export const emptyStats = (tier: string): TierStats => ({ tier, up: 1, hits: 0, misses: 0, evictions: 0, corrupt: 0, entries: 0, bytes: 0 });
