/**
 * The disk tier: SQLite through better-sqlite3, one file (`embeddings.sqlite`) in EMBEDDING_CACHE_DIR,
 * bounded by EMBEDDING_CACHE_DISK_MB with the least recently used entries evicted, surviving restarts.
 * Why SQLite rather than LMDB: docs/CACHE.md (a damaged LMDB file crashed the process; SQLite reports it).
 *
 * better-sqlite3 is synchronous, so the main thread is never blocked for long: lookups run in slices of
 * READ_SLICE keys with the event loop free between them, and writes are queued and committed in the
 * background, WRITE_SLICE entries per transaction. A store that will not open, a read-only directory, a
 * full disk or any failed write turns this tier off with one warning; serving goes on without it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { CHECKSUMS_AVAILABLE, decodeEntry, encodeEntry, type CacheEntry } from './entry.js';
import { emptyStats, type CachePut, type CacheTier, type TierStats } from './tier.js';

export const DISK_FILE = 'embeddings.sqlite';
/** The schema's version (PRAGMA user_version): a file of another version is left alone and the tier stays off. */
const SCHEMA_VERSION = 1;
/** 8 KB pages hold five 1.5 KB entries each: 1.7 KB per entry on disk against 2.1 KB with 4 KB pages (docs/CACHE.md). */
const PAGE_SIZE = 8192;
const READ_SLICE = 512;
const WRITE_SLICE = 512;
/** More queued than this and a write slice runs at once rather than later: the queue's memory stays bounded. */
const MAX_QUEUED = 8192;
/** A hit rewrites its entry's last use only when older than this: re-reading a repository is not a write per chunk. */
export const TOUCH_AFTER_MS = 10 * 60 * 1000;
/** Evict down to this fraction of the bound, so eviction runs once per many writes, not at every one. */
const EVICT_TO = 0.9;

/** How many of the oldest entries to evict so `usedBytes` falls to EVICT_TO of `maxBytes` (pure). */
export function entriesToEvict(usedBytes: number, maxBytes: number, entries: number): number {
  if (usedBytes <= maxBytes || entries === 0) return 0;
  const perEntry = usedBytes / entries;
  return Math.min(entries, Math.ceil((usedBytes - maxBytes * EVICT_TO) / perEntry));
}

export interface DiskTierOptions {
  dir: string;
  maxBytes: number;
  dims: number;
  logger: Logger;
  now?: () => number;
}

interface Statements {
  get: Database.Statement<[Buffer], { value: Buffer; used: number }>;
  insert: Database.Statement<[Buffer, Buffer, number]>;
  touch: Database.Statement<[number, Buffer]>;
  remove: Database.Statement<[Buffer]>;
  evict: Database.Statement<[number]>;
  pages: Database.Statement<[], number>;
  free: Database.Statement<[], number>;
}

export class DiskTier implements CacheTier {
  readonly name = 'disk';
  readonly #stats: TierStats = emptyStats('disk');
  readonly #options: DiskTierOptions;
  readonly #now: () => number;
  #db: Database.Database | undefined;
  #sql: Statements | undefined;
  #puts: { key: Buffer; value: Buffer }[] = [];
  #touches: Buffer[] = [];
  #removes: Buffer[] = [];
  #flushing = false;
  #idle: Promise<void> = Promise.resolve();

  /** Opens (or creates) the store; on any failure the tier is returned off, having warned once. Never throws. */
  static open(options: DiskTierOptions): DiskTier {
    return new DiskTier(options);
  }

  private constructor(options: DiskTierOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    try {
      if (!CHECKSUMS_AVAILABLE) throw new Error(`this Node.js (${process.version}) has no zlib.crc32 to check entries with; Node 20.15 or later has`);
      mkdirSync(options.dir, { recursive: true });
      const db = new Database(path.join(options.dir, DISK_FILE));
      this.#db = db;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version !== 0 && version !== SCHEMA_VERSION) throw new Error(`${DISK_FILE} has schema version ${version}, this build writes ${SCHEMA_VERSION}`);
      db.pragma(`page_size = ${PAGE_SIZE}`); // takes effect only on a new file
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL'); // a crash may lose the last writes, never the file: they are only a cache
      db.pragma('busy_timeout = 100'); // another process on the same directory: wait briefly, then skip
      db.exec(`CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, value BLOB NOT NULL, used INTEGER NOT NULL);
               CREATE INDEX IF NOT EXISTS entries_used ON entries(used, id);`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.#sql = {
        get: db.prepare('SELECT value, used FROM entries WHERE key = ?'),
        insert: db.prepare('INSERT OR IGNORE INTO entries (key, value, used) VALUES (?, ?, ?)'),
        touch: db.prepare('UPDATE entries SET used = ? WHERE key = ?'),
        remove: db.prepare('DELETE FROM entries WHERE key = ?'),
        evict: db.prepare('DELETE FROM entries WHERE id IN (SELECT id FROM entries ORDER BY used, id LIMIT ?)'),
        pages: db.prepare<[], number>('PRAGMA page_count').pluck(),
        free: db.prepare<[], number>('PRAGMA freelist_count').pluck(),
      };
      this.#stats.entries = db.prepare<[], number>('SELECT count(*) FROM entries').pluck().get()!;
      this.#measure();
      options.logger.info({ cache: 'disk', dir: options.dir, entries: this.#stats.entries, bytes: this.#stats.bytes, max_bytes: options.maxBytes }, 'embedding cache: disk tier open');
    } catch (error) {
      this.#off(error, 'could not be opened');
    }
  }

  get up(): boolean {
    return this.#sql !== undefined;
  }

  async get(keys: readonly Buffer[]): Promise<(CacheEntry | undefined)[]> {
    const found: (CacheEntry | undefined)[] = new Array<CacheEntry | undefined>(keys.length);
    for (let from = 0; from < keys.length; from += READ_SLICE) {
      if (from > 0) await yieldToEventLoop();
      const end = Math.min(keys.length, from + READ_SLICE);
      for (let i = from; i < end; i++) found[i] = this.#read(keys[i]!);
    }
    if (this.#touches.length > 0 || this.#removes.length > 0) this.#schedule();
    return found;
  }

  #read(key: Buffer): CacheEntry | undefined {
    const sql = this.#sql;
    if (sql === undefined) {
      this.#stats.misses++;
      return undefined;
    }
    let row: { value: Buffer; used: number } | undefined;
    try {
      row = sql.get.get(key);
    } catch (error) {
      // A damaged page: this entry is a miss; a file that is no database at all turns the tier off.
      this.#stats.corrupt++;
      this.#stats.misses++;
      if ((error as { code?: string }).code === 'SQLITE_NOTADB') this.#off(error, 'is not readable');
      return undefined;
    }
    if (row === undefined) {
      this.#stats.misses++;
      return undefined;
    }
    const entry = decodeEntry(key, row.value, this.#options.dims);
    if (entry === undefined) {
      this.#stats.corrupt++;
      this.#stats.misses++;
      this.#removes.push(key); // rewritten by the next computation of the same text
      return undefined;
    }
    this.#stats.hits++;
    if (row.used < this.#now() - TOUCH_AFTER_MS) this.#touches.push(key);
    return entry;
  }

  put(entries: readonly CachePut[]): void {
    if (this.#sql === undefined || entries.length === 0) return;
    for (const { key, entry } of entries) this.#puts.push({ key, value: encodeEntry(key, entry) });
    while (this.#puts.length > MAX_QUEUED && this.#sql !== undefined) this.#writeSlice();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    this.#idle = (async () => {
      try {
        while (this.#sql !== undefined && (this.#puts.length > 0 || this.#touches.length > 0 || this.#removes.length > 0)) {
          await yieldToEventLoop();
          this.#writeSlice();
        }
      } finally {
        this.#flushing = false;
      }
    })();
  }

  /** One transaction: up to WRITE_SLICE new entries, the pending touches and removals; then eviction if over the bound. */
  #writeSlice(): void {
    const sql = this.#sql;
    const db = this.#db;
    if (sql === undefined || db === undefined) return;
    const puts = this.#puts.splice(0, WRITE_SLICE);
    const touches = this.#touches.splice(0, WRITE_SLICE * 4);
    const removes = this.#removes.splice(0);
    try {
      const now = this.#now();
      let added = 0;
      db.transaction(() => {
        for (const key of removes) this.#stats.entries -= sql.remove.run(key).changes;
        for (const { key, value } of puts) added += sql.insert.run(key, value, now).changes;
        for (const key of touches) sql.touch.run(now, key);
      })();
      this.#stats.entries += added;
      this.#measure();
      const evict = entriesToEvict(this.#stats.bytes, this.#options.maxBytes, this.#stats.entries);
      if (evict > 0) {
        const removed = sql.evict.run(evict).changes;
        this.#stats.entries -= removed;
        this.#stats.evictions += removed;
        this.#measure();
      }
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return; // another process holds the file: these entries are skipped
      // SQLITE_FULL, READONLY, IOERR, CORRUPT, …: the store cannot take writes, so it is not trusted for reads either.
      this.#off(error, 'could not be written');
    }
  }

  /** Bytes in use: the file's pages less its free list (SQLite reuses freed pages, so the file stays near the bound). */
  #measure(): void {
    const sql = this.#sql!;
    this.#stats.bytes = (sql.pages.get()! - sql.free.get()!) * PAGE_SIZE;
  }

  /** The tier stops serving, with one warning naming the directory and the fix; requests go on without it. */
  #off(error: unknown, what: string): void {
    const wasUp = this.#stats.up === 1;
    this.#stats.up = 0;
    this.#sql = undefined;
    this.#puts = [];
    this.#touches = [];
    this.#removes = [];
    try {
      this.#db?.close();
    } catch {
      // already unusable
    }
    this.#db = undefined;
    if (!wasUp) return;
    const file = path.join(this.#options.dir, DISK_FILE);
    this.#options.logger.warn(
      { cache: 'disk', dir: this.#options.dir, err: error },
      `embedding cache: the disk tier is off: ${file} ${what} (${error instanceof Error ? error.message : String(error)}); serving goes on without it. ` +
        'Fix: make EMBEDDING_CACHE_DIR a writable directory with free space, or delete a damaged file (it is only a cache), then restart.',
    );
  }

  stats(): TierStats {
    return { ...this.#stats };
  }

  /** Writes everything queued now (a close, or a test that reads the file next). */
  async flush(): Promise<void> {
    await this.#idle;
    while (this.#sql !== undefined && this.#puts.length + this.#touches.length + this.#removes.length > 0) this.#writeSlice();
  }

  async close(): Promise<void> {
    await this.flush();
    try {
      this.#db?.close();
    } catch {
      // closing a broken store
    }
    this.#db = undefined;
    this.#sql = undefined;
  }
}
