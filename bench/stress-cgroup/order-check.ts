/**
 * Every chunk exactly once, in order, ids matching: the answers of one request checked against the
 * ids it sent, one at a time (so a stream can be checked as its lines arrive).
 */
export interface OrderReport {
  sent: number;
  received: number;
  /** Answers whose id is not the one expected at that position (each is also a duplicate, a stranger or a skip). */
  outOfOrder: number;
  duplicated: number;
  /** Ids that were never sent. */
  unknown: number;
  /** Sent ids never answered; only counted when the answer is complete (a stream cut by the time bound is not). */
  missing: number;
  /** Vectors of the wrong length or with a non-finite value. */
  badVectors: number;
}

export class OrderCheck {
  readonly #ids: readonly string[];
  readonly #index: Map<string, number>;
  readonly #seen = new Set<string>();
  readonly #dims: number;
  #next = 0;
  #report: OrderReport;

  constructor(ids: readonly string[], dims = 384) {
    this.#ids = ids;
    this.#index = new Map(ids.map((id, i) => [id, i]));
    this.#dims = dims;
    this.#report = { sent: ids.length, received: 0, outOfOrder: 0, duplicated: 0, unknown: 0, missing: 0, badVectors: 0 };
  }

  push(id: unknown, vector: unknown): void {
    const r = this.#report;
    r.received++;
    if (!Array.isArray(vector) || vector.length !== this.#dims || !vector.every((x) => Number.isFinite(x))) r.badVectors++;
    if (typeof id !== 'string' || !this.#index.has(id)) {
      r.unknown++;
      r.outOfOrder++;
      return;
    }
    if (this.#seen.has(id)) r.duplicated++;
    this.#seen.add(id);
    if (id !== this.#ids[this.#next]) r.outOfOrder++;
    this.#next = this.#index.get(id)! + 1;
  }

  /** The tally; `complete` when the answer claims to be whole, so unanswered ids count as missing. */
  report(complete: boolean): OrderReport {
    return { ...this.#report, missing: complete ? this.#ids.length - this.#seen.size : 0 };
  }
}

export const emptyOrderReport = (): OrderReport => ({ sent: 0, received: 0, outOfOrder: 0, duplicated: 0, unknown: 0, missing: 0, badVectors: 0 });

export function addOrderReports(a: OrderReport, b: OrderReport): OrderReport {
  return {
    sent: a.sent + b.sent,
    received: a.received + b.received,
    outOfOrder: a.outOfOrder + b.outOfOrder,
    duplicated: a.duplicated + b.duplicated,
    unknown: a.unknown + b.unknown,
    missing: a.missing + b.missing,
    badVectors: a.badVectors + b.badVectors,
  };
}

/** Any answer that breaks "every chunk exactly once, in order, ids matching". */
export const orderBroken = (r: OrderReport): boolean => r.outOfOrder + r.duplicated + r.unknown + r.missing + r.badVectors > 0;
