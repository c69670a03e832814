/**
 * The shared tier of the queue worker mode: a JetStream key-value bucket (`@nats-io/kv`) every worker reads and
 * writes, so a re-index hits whichever machine embedded a chunk before. Values are entry.ts's bytes (a CRC-32 over
 * key and contents), keys the cache key in hex. The tier has a connection of its own to the same servers as the
 * queue, and never holds up a request for long: a lookup that is not answered within LOOKUP_TIMEOUT_MS is a miss,
 * writes go out in the background (at most MAX_IN_FLIGHT at once; more are dropped), and a bucket that cannot be
 * reached leaves the tier answering misses, with one warning, while the other tiers serve.
 */
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { decodeEntry, encodedBytes, encodeEntry, type CacheEntry } from './entry.js';
import { emptyStats, type CachePut, type CacheTier, type TierStats } from './tier.js';

/** A lookup's whole budget: past it the keys not yet answered are misses (the model computes them instead). */
export const LOOKUP_TIMEOUT_MS = 2000;
const CONNECT_WARNING_MS = 10_000;
/** Gets in flight at once per lookup. */
const GET_SLICE = 256;
/** Puts in flight at once; beyond it new entries are not shared (each is still in memory and on disk). */
const MAX_IN_FLIGHT = 4096;

export interface KvTierOptions {
  servers: string[];
  bucket: string;
  /** The bucket's bound in bytes; when full, its oldest entries are dropped first. */
  maxBytes: number;
  dims: number;
  logger: Logger;
}

export class KvTier implements CacheTier {
  readonly name = 'kv';
  readonly #stats: TierStats = emptyStats('kv');
  readonly #options: KvTierOptions;
  #nc: NatsConnection | undefined;
  #kv: KV | undefined;
  #closed = false;
  readonly #inFlight = new Set<Promise<unknown>>();
  #warned = false;
  /** Settles once the bucket is open, or failed to open. */
  readonly ready: Promise<void>;

  /** Connects and opens (or creates) the bucket in the background; until then, and if that fails, lookups are misses. */
  static open(options: KvTierOptions): KvTier {
    return new KvTier(options);
  }

  private constructor(options: KvTierOptions) {
    this.#options = options;
    this.#stats.up = 0;
    this.ready = this.#open().catch((error: unknown) => this.#warn(error, 'could not be opened; the tier is off'));
    // The client keeps trying to connect; say so once if it takes long, rather than nothing at all.
    setTimeout(() => {
      if (this.#kv === undefined && !this.#closed) this.#warn(new Error(`not open after ${CONNECT_WARNING_MS / 1000} s`), 'is not reachable yet; its lookups are misses until it is');
    }, CONNECT_WARNING_MS).unref();
  }

  async #open(): Promise<void> {
    const { servers, bucket, maxBytes, dims, logger } = this.#options;
    const nc = await connect({ servers, name: 'doctown-embed-cache', waitOnFirstConnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
    if (this.#closed) return void (await nc.close());
    this.#nc = nc;
    const kv = await new Kvm(nc).create(bucket, { history: 1, max_bytes: maxBytes, maxValueSize: encodedBytes(dims) + 64, timeout: LOOKUP_TIMEOUT_MS });
    // A KV bucket refuses writes when full; a cache should forget its oldest entries instead.
    const jsm = await jetstreamManager(nc);
    const stream = `KV_${bucket}`;
    const info = await jsm.streams.info(stream);
    if (info.config.discard !== DiscardPolicy.Old) await jsm.streams.update(stream, { ...info.config, discard: DiscardPolicy.Old });
    if (this.#closed) return;
    this.#kv = kv;
    this.#stats.up = 1;
    logger.info({ cache: 'kv', bucket, servers, max_bytes: maxBytes }, 'embedding cache: shared tier open (JetStream key-value bucket)');
  }

  async get(keys: readonly Buffer[]): Promise<(CacheEntry | undefined)[]> {
    const found = new Array<CacheEntry | undefined>(keys.length).fill(undefined);
    const kv = this.#kv;
    if (kv === undefined || this.#nc?.isClosed()) {
      this.#stats.misses += keys.length;
      return found;
    }
    const deadline = Date.now() + LOOKUP_TIMEOUT_MS;
    for (let from = 0; from < keys.length && Date.now() < deadline; from += GET_SLICE) {
      const slice = keys.slice(from, from + GET_SLICE);
      const gets = Promise.all(
        slice.map((key, j) =>
          kv.get(key.toString('hex')).then(
            (entry) => {
              if (entry === null || entry.operation !== 'PUT') return;
              const decoded = decodeEntry(key, entry.value, this.#options.dims);
              if (decoded === undefined) this.#stats.corrupt++;
              found[from + j] = decoded;
            },
            (error: unknown) => this.#warn(error, 'a lookup failed; its keys are misses'),
          ),
        ),
      );
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
      await Promise.race([gets, late]);
      clearTimeout(timer);
    }
    // What arrives after the deadline is not used: a copy, so late answers cannot change what was counted.
    const answer = [...found];
    for (const entry of answer) {
      if (entry === undefined) this.#stats.misses++;
      else this.#stats.hits++;
    }
    return answer;
  }

  put(entries: readonly CachePut[]): void {
    const kv = this.#kv;
    if (kv === undefined || this.#nc?.isClosed()) return;
    for (const { key, entry } of entries) {
      if (this.#inFlight.size >= MAX_IN_FLIGHT) return;
      const put = kv.put(key.toString('hex'), encodeEntry(key, entry)).then(
        () => undefined,
        (error: unknown) => this.#warn(error, 'a write failed; the entry is not shared'),
      );
      this.#inFlight.add(put);
      void put.finally(() => this.#inFlight.delete(put));
    }
  }

  /** Resolves once every write started so far has been answered. */
  async flush(): Promise<void> {
    await Promise.all([...this.#inFlight]);
  }

  stats(): TierStats {
    return { ...this.#stats, up: this.#kv !== undefined && this.#nc?.isClosed() === false ? 1 : 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    this.#kv = undefined;
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }

  /** One warning for the tier's life: a bucket that cannot be reached would otherwise log once per lookup. */
  #warn(error: unknown, what: string): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#options.logger.warn(
      { cache: 'kv', bucket: this.#options.bucket, servers: this.#options.servers, err: error },
      `embedding cache: the shared tier (bucket ${this.#options.bucket}) ${what} (${error instanceof Error ? error.message : String(error)}); serving goes on with the other tiers`,
    );
  }
}
