/**
 * The tiers in order (memory, disk, and in the queue worker mode a shared bucket), behind the two calls
 * the embedding core makes: lookup before planning, store after scattering. A hit in a lower tier is
 * copied into the tiers above it; what the model computed is stored in every tier.
 */
import type { Logger } from 'pino';
import type { CacheEntry } from './entry.js';
import { cacheKey } from './key.js';
import type { CachePut, CacheTier, TierStats } from './tier.js';

export interface CacheStats {
  tiers: TierStats[];
  /** Chunks that repeated an earlier text of the same request, embedded once with it. */
  duplicates: number;
}

export class TieredCache {
  readonly #identity: Promise<Buffer | undefined>;
  readonly #tiers: readonly CacheTier[];
  readonly #logger: Logger;
  #duplicates = 0;
  #warned = new Set<string>();

  /**
   * `identity`: the digest of everything besides the text that decides a vector (key.ts); a promise, since
   * the model files are hashed while the workers load. Undefined when they could not be: no key is then safe.
   */
  constructor(identity: Promise<Buffer | undefined>, tiers: readonly CacheTier[], logger: Logger) {
    this.#identity = identity;
    this.#tiers = tiers;
    this.#logger = logger;
  }

  /** The texts' keys; undefined when the model's identity is unknown, and the request must run uncached. */
  async keys(texts: readonly string[]): Promise<Buffer[] | undefined> {
    const identity = await this.#identity;
    return identity && texts.map((text) => cacheKey(identity, text));
  }

  /** The entry of every key found in some tier, undefined for the rest. Never throws. */
  async lookup(keys: readonly Buffer[]): Promise<(CacheEntry | undefined)[]> {
    const found = new Array<CacheEntry | undefined>(keys.length);
    let missing = keys.map((_, i) => i);
    for (let t = 0; t < this.#tiers.length && missing.length > 0; t++) {
      const tier = this.#tiers[t]!;
      let got: (CacheEntry | undefined)[] = [];
      try {
        got = await tier.get(missing.map((i) => keys[i]!));
      } catch (error) {
        this.#warnOnce(tier.name, error);
      }
      const still: number[] = [];
      const promote: CachePut[] = [];
      missing.forEach((i, j) => {
        const entry = got[j];
        if (entry === undefined) still.push(i);
        else {
          found[i] = entry;
          promote.push({ key: keys[i]!, entry });
        }
      });
      if (promote.length > 0) for (let u = 0; u < t; u++) this.#put(this.#tiers[u]!, promote);
      missing = still;
    }
    return found;
  }

  /** Stores what the model computed in every tier. Never throws. */
  store(puts: readonly CachePut[]): void {
    if (puts.length === 0) return;
    for (const tier of this.#tiers) this.#put(tier, puts);
  }

  /** Chunks of a request that repeated an earlier chunk's text. */
  noteDuplicates(count: number): void {
    this.#duplicates += count;
  }

  stats(): CacheStats {
    return { tiers: this.#tiers.map((t) => t.stats()), duplicates: this.#duplicates };
  }

  async close(): Promise<void> {
    await Promise.all(this.#tiers.map((t) => t.close().catch((error: unknown) => this.#warnOnce(t.name, error))));
  }

  #put(tier: CacheTier, puts: readonly CachePut[]): void {
    try {
      tier.put(puts);
    } catch (error) {
      this.#warnOnce(tier.name, error);
    }
  }

  /** A tier is supposed to handle its own failures; one that throws anyway is logged once and treated as missing. */
  #warnOnce(tier: string, error: unknown): void {
    if (this.#warned.has(tier)) return;
    this.#warned.add(tier);
    this.#logger.warn({ cache: tier, err: error }, `embedding cache: the ${tier} tier failed; its lookups count as misses`);
  }
}
