import { estimateTokens } from '../core/planner.js';
import type { DispatchGate, Grant } from '../core/scheduler.js';
import { batchMemoryBytes, MAX_SEQ_LENGTH } from '../model/spec.js';
import type { WorkerSnapshot } from '../workers/pool.js';
import { admitBatch } from './headroom.js';

/**
 * The estimate of a batch's padded length is raised by this much: the main thread does not
 * tokenize, and the estimate is below the real count for about one chunk in twenty (planner.ts).
 */
const PADDED_MARGIN = 1.25;

interface Reservation {
  bytes: number;
  /** When its batch finished; from the next sample on, its growth is in the reading itself. */
  finishedAt: number | undefined;
}

export interface HeadroomReport {
  headroom_bytes: number;
  committed_bytes: number;
  /** Full-length (EMBEDDING_MAX_SEQ_LENGTH) rows one batch may hold right now, on the worker with the smallest arena. */
  max_rows_at_full_length: number;
  /** Times a batch was held back for memory so far. */
  memory_waits: number;
  refused_batches: number;
}

/**
 * Holds a batch back until the memory budget can take it (issue 19): each batch's predicted growth
 * (model/spec.ts, batchMemoryBytes) is reserved when it starts, on top of the last memory reading,
 * and counted until a reading taken after it finished includes it. The scheduler asks before every
 * batch; the supervisor tells it the budget and each reading.
 */
export class HeadroomGate implements DispatchGate {
  readonly #reservations = new Set<Reservation>();
  readonly #pool: { snapshot(): WorkerSnapshot[] };
  readonly #now: () => number;
  #budgetBytes: number;
  #usedBytes: number;
  /** The service's idle footprint, once the supervisor has read it (admitBatch's idleBytes). */
  #idleBytes: number | undefined;
  #running = 0;
  #waits = 0;
  #refused = 0;
  /** EMBEDDING_MAX_SEQ_LENGTH: the longest row a batch can have, where the estimates stop. */
  readonly #seq: number;

  constructor(options: { budgetBytes: number; usedBytes: number; pool: { snapshot(): WorkerSnapshot[] }; now?: () => number; maxSeqLength?: number }) {
    this.#seq = options.maxSeqLength ?? MAX_SEQ_LENGTH;
    this.#budgetBytes = options.budgetBytes;
    this.#usedBytes = options.usedBytes;
    this.#pool = options.pool;
    this.#now = options.now ?? performance.now.bind(performance);
  }

  /** A memory reading taken at `takenAt` (this gate's clock): reservations that finished before it are in it now. */
  sampled(usedBytes: number, budgetBytes: number, takenAt: number): void {
    this.#usedBytes = usedBytes;
    this.#budgetBytes = budgetBytes;
    for (const r of this.#reservations) if (r.finishedAt !== undefined && r.finishedAt < takenAt) this.#reservations.delete(r);
  }

  /** The service's footprint with nothing to do, read by the supervisor when it starts. */
  idle(bytes: number): void {
    this.#idleBytes = bytes;
  }

  now(): number {
    return this.#now();
  }

  get #committed(): number {
    let sum = 0;
    for (const r of this.#reservations) sum += r.bytes;
    return sum;
  }

  #arenas(): { smallest: number; total: number } {
    const arenas = this.#pool.snapshot().filter((w) => w.state !== 'recycling').map((w) => w.arenaBytes);
    return { smallest: arenas.length > 0 ? Math.min(...arenas) : 0, total: arenas.reduce((a, b) => a + b, 0) };
  }

  acquire(texts: readonly string[], onlyFree = false): Grant {
    let longest = 0;
    for (const text of texts) longest = Math.max(longest, estimateTokens(text, this.#seq));
    const padded = Math.min(this.#seq, Math.ceil(longest * PADDED_MARGIN));
    const arenas = this.#arenas();
    const decision = admitBatch({
      rows: texts.length,
      padded,
      budgetBytes: this.#budgetBytes,
      usedBytes: this.#usedBytes,
      committedBytes: this.#committed,
      running: this.#running,
      smallestArenaBytes: arenas.smallest,
      totalArenaBytes: arenas.total,
      idleBytes: this.#idleBytes,
      onlyFree,
    });
    if (decision.start === 0) {
      this.#waits++;
      return { rows: 0, release: () => undefined };
    }
    if (decision.start < 0) {
      this.#refused++;
      const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
      return {
        rows: -1,
        release: () => undefined,
        reason:
          `one chunk of about ${padded} tokens needs about ${mb(batchMemoryBytes(1, padded))} of model memory, and the memory budget ` +
          `(${mb(this.#budgetBytes)}) leaves ${mb(Math.max(0, this.#budgetBytes - Math.min(this.#usedBytes - arenas.total, this.#idleBytes ?? Number.POSITIVE_INFINITY)))} above the service's idle footprint: ` +
          'raise the memory limit or EMBEDDING_MAX_MEMORY_PERCENT/EMBEDDING_MAX_MEMORY_MB, or run fewer EMBEDDING_WORKERS',
      };
    }
    const reservation: Reservation = { bytes: decision.growthBytes, finishedAt: undefined };
    this.#reservations.add(reservation);
    this.#running++;
    return {
      rows: decision.start,
      release: () => {
        this.#running--;
        reservation.finishedAt = this.#now();
      },
    };
  }

  report(): HeadroomReport {
    const committed = this.#committed;
    const headroom = this.#budgetBytes - this.#usedBytes - committed;
    const { smallest } = this.#arenas();
    let rows = 0;
    while (rows < 1024 && batchMemoryBytes(rows + 1, this.#seq) - smallest <= headroom) rows++;
    return { headroom_bytes: headroom, committed_bytes: committed, max_rows_at_full_length: rows, memory_waits: this.#waits, refused_batches: this.#refused };
  }
}
