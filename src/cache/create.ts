/** Builds the cache from the configuration: the identity, the memory tier and, with EMBEDDING_CACHE_DIR, the disk tier. */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { sha256File } from '../model/digest.js';
import { MODEL_ID } from '../model/spec.js';
import path from 'node:path';
import { DiskTier } from './disk-tier.js';
import { DEFAULT_COMPUTATION, identityDigest } from './key.js';
import { MemoryTier } from './memory-tier.js';
import type { CacheTier } from './tier.js';
import { TieredCache } from './tiered-cache.js';

export type CacheConfig = Pick<Config, 'cache' | 'cacheMb' | 'cacheDir' | 'cacheDiskMb' | 'maxSeqLength' | 'modelVariant'>;

export interface BuiltCache {
  cache: TieredCache;
  /** The memory tier, for the supervisor (it counts and shrinks its bytes); undefined when EMBEDDING_CACHE_MB is 0. */
  memory: MemoryTier | undefined;
}

/**
 * The cache, or undefined with EMBEDDING_CACHE=off. The model files in use are hashed here (in the background,
 * while the workers load): their checksums are the model's identity in every key, so another graph, variant or
 * tokenizer can never be served this one's vectors.
 */
export function createCache(
  config: CacheConfig,
  model: { graphPath: string; tokenizerPath: string },
  dims: number,
  logger: Logger,
  /** Tiers after memory and disk (the shared bucket of the queue worker mode). */
  extraTiers: readonly CacheTier[] = [],
): BuiltCache | undefined {
  if (!config.cache) return undefined;
  const identity = Promise.all([sha256File(model.graphPath), sha256File(model.tokenizerPath)]).then(([graph, tokenizer]) =>
    identityDigest({
      model: MODEL_ID,
      variant: config.modelVariant,
      files: { [path.basename(model.graphPath)]: graph.sha256, [path.basename(model.tokenizerPath)]: tokenizer.sha256 },
      maxSeqLength: config.maxSeqLength,
      computation: DEFAULT_COMPUTATION,
    }),
  );
  // Files the workers could load but this could not hash: no key is safe, so requests run as if the cache were off.
  const safeIdentity = identity.catch((error: unknown) => {
    logger.warn({ cache: 'off', err: error }, 'embedding cache: the model files could not be hashed; the cache is off');
    return undefined;
  });
  const memory = config.cacheMb > 0 ? new MemoryTier(config.cacheMb * 1024 * 1024, dims) : undefined;
  const disk = config.cacheDir ? DiskTier.open({ dir: config.cacheDir, maxBytes: config.cacheDiskMb * 1024 * 1024, dims, logger }) : undefined;
  const tiers: CacheTier[] = [...(memory ? [memory] : []), ...(disk ? [disk] : []), ...extraTiers];
  logger.info(
    { cache: 'on', tiers: tiers.map((t) => t.name), memory_bytes: memory?.configuredBytes ?? 0, dir: config.cacheDir ?? null },
    `embedding cache: ${tiers.map((t) => t.name).join(', ') || 'no tiers (duplicates within a request only)'}`,
  );
  return { cache: new TieredCache(safeIdentity, tiers, logger), memory };
}
