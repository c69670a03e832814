/**
 * The cache in front of the batch runner: a lookup step before planning and a fill step after
 * scattering, for both the whole-request and the streamed paths. Identical texts of a request are
 * looked up and embedded once and their vector written to each of their rows; only the texts no tier
 * holds are planned into batches (batch-runner.ts, unchanged); what they computed is stored in every tier.
 */
import type { TieredCache } from '../cache/tiered-cache.js';
import type { CacheEntry } from '../cache/entry.js';
import type { BatchResult } from '../workers/batch-result.js';
import { allocateRows, runRows, type EmbeddedRows, type RunRowsOptions } from './batch-runner.js';
import type { RuntimeLimits } from './runtime-limits.js';
import type { BatchScheduler } from './scheduler.js';

/** runRows' signature: fills `rows` (request rows offset … offset + count - 1) with the vectors of their texts. */
export type RowRunner = (
  scheduler: BatchScheduler<BatchResult>,
  limits: RuntimeLimits,
  texts: readonly string[],
  rows: EmbeddedRows,
  options: RunRowsOptions,
) => Promise<void>;

/** Each distinct text once, and for each row the index of its text among them (pure). */
export function distinctTexts(texts: readonly string[], offset: number, count: number): { distinct: string[]; slot: Uint32Array } {
  const first = new Map<string, number>();
  const distinct: string[] = [];
  const slot = new Uint32Array(count);
  for (let row = 0; row < count; row++) {
    const text = texts[offset + row]!;
    let u = first.get(text);
    if (u === undefined) {
      u = distinct.length;
      first.set(text, u);
      distinct.push(text);
    }
    slot[row] = u;
  }
  return { distinct, slot };
}

/** runRows with the cache in front of it; runRows itself when there is no cache. */
export function rowRunner(cache: TieredCache | undefined): RowRunner {
  if (cache === undefined) return runRows;
  return async (scheduler, limits, texts, rows, options) => {
    const { offset, count, dims } = rows;
    const { distinct, slot } = distinctTexts(texts, offset, count);
    const keys = await cache.keys(distinct);
    if (keys === undefined) return runRows(scheduler, limits, texts, rows, options);
    const entries = await cache.lookup(keys);
    options.signal.throwIfAborted();
    const hit = Array.from(entries, (e) => e !== undefined);

    const missing: number[] = [];
    for (let u = 0; u < distinct.length; u++) if (entries[u] === undefined) missing.push(u);
    if (missing.length > 0) {
      const computed = allocateRows(0, missing.length, dims);
      await runRows(
        scheduler,
        limits,
        missing.map((u) => distinct[u]!),
        computed,
        options,
      );
      const puts = missing.map((u, j) => {
        // A copy per entry, so the cache never holds a whole window's buffer alive.
        const entry: CacheEntry = { vector: computed.vectors.slice(j * dims, (j + 1) * dims), tokens: computed.tokens[j]!, truncated: computed.truncated[j] === 1 };
        entries[u] = entry;
        return { key: keys[u]!, entry };
      });
      cache.store(puts);
    }

    let cached = 0;
    const cachedRows = (rows.cachedRows ??= new Uint8Array(count));
    for (let row = 0; row < count; row++) {
      const u = slot[row]!;
      const entry = entries[u]!;
      rows.vectors.set(entry.vector, row * dims);
      rows.tokens[row] = entry.tokens;
      rows.truncated[row] = entry.truncated ? 1 : 0;
      if (hit[u]) {
        cached++;
        cachedRows[row] = 1;
      }
    }
    rows.cached = (rows.cached ?? 0) + cached;
    cache.noteDuplicates(count - distinct.length);
  };
}
