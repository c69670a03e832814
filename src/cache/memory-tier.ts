/**
 * The in-memory tier: a least-recently-used map bounded in bytes (EMBEDDING_CACHE_MB). Its bytes sit
 * inside the process's RSS, so the memory supervisor counts them against the budget and lowers the
 * bound under pressure (shrinkTo) before the batches' memory is touched; the bound returns when calm.
 */
import type { CacheEntry } from './entry.js';
import { emptyStats, type CachePut, type CacheTier, type TierStats } from './tier.js';

/**
 * What one entry costs beyond its vector's floats: the 32-byte key as a one-byte string, the map slot, the
 * entry object and the Float32Array with its ArrayBuffer and backing store (malloc'd outside the V8 heap).
 * Measured by `npm run bench:cache` (heap and external memory over 20,000 entries: 1,878 bytes each on Node 20, rounded up).
 */
export const ENTRY_OVERHEAD_BYTES = 352;

export const entryBytes = (dims: number) => dims * 4 + ENTRY_OVERHEAD_BYTES;

/** What the supervisor sees of the memory tier (supervisor/cache-policy.ts decides, the loop calls). */
export interface ShrinkableCache {
  /** Bytes held now. */
  readonly bytes: number;
  /** The configured bound (EMBEDDING_CACHE_MB). */
  readonly configuredBytes: number;
  /** The bound in force: configured, or lower while memory is tight. */
  readonly capBytes: number;
  /** Sets the bound, evicting the least recently used entries above it; returns the bytes freed. */
  setCap(bytes: number): number;
}

export class MemoryTier implements CacheTier, ShrinkableCache {
  readonly name = 'memory';
  /** Insertion order is use order: a hit moves its entry to the end, eviction takes from the front. */
  readonly #map = new Map<string, CacheEntry>();
  readonly #stats: TierStats = emptyStats('memory');
  readonly #entryBytes: number;
  #cap: number;

  constructor(
    readonly configuredBytes: number,
    dims: number,
  ) {
    this.#cap = configuredBytes;
    this.#entryBytes = entryBytes(dims);
  }

  get bytes(): number {
    return this.#map.size * this.#entryBytes;
  }

  get capBytes(): number {
    return this.#cap;
  }

  get(keys: readonly Buffer[]): (CacheEntry | undefined)[] {
    return keys.map((key) => {
      const id = key.toString('latin1');
      const entry = this.#map.get(id);
      if (entry === undefined) {
        this.#stats.misses++;
        return undefined;
      }
      this.#stats.hits++;
      this.#map.delete(id);
      this.#map.set(id, entry);
      return entry;
    });
  }

  put(entries: readonly CachePut[]): void {
    if (this.#cap < this.#entryBytes) return;
    for (const { key, entry } of entries) {
      const id = key.toString('latin1');
      this.#map.delete(id);
      this.#map.set(id, entry);
    }
    this.#evictTo(this.#cap);
  }

  setCap(bytes: number): number {
    this.#cap = Math.max(0, Math.min(bytes, this.configuredBytes));
    return this.#evictTo(this.#cap);
  }

  /** Evicts least recently used entries until at most `cap` bytes are held; returns the bytes freed. */
  #evictTo(cap: number): number {
    const keep = Math.floor(cap / this.#entryBytes);
    let evicted = 0;
    for (const id of this.#map.keys()) {
      if (this.#map.size <= keep) break;
      this.#map.delete(id);
      evicted++;
    }
    this.#stats.evictions += evicted;
    return evicted * this.#entryBytes;
  }

  stats(): TierStats {
    return { ...this.#stats, entries: this.#map.size, bytes: this.bytes };
  }

  close(): Promise<void> {
    this.#map.clear();
    return Promise.resolve();
  }
}
