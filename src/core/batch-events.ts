import type { Logger } from 'pino';

/**
 * The original worker's event stream: it logged `embedding.batch_started.v1` {batch_id, chunk_count} and
 * `embedding.batch_completed.v1` {batch_id, chunk_count, duration_ms} for every /embed request, each an event object
 * `{type, timestamp, payload}`. This service logs the same objects, under `event` in its JSON log lines, so a log
 * shipper that watched the original finds the same types and payloads; `embedding.batch_failed.v1` (which the
 * original lacked: a failed batch just had no completed event) closes a request that did not complete. The queue's worker
 * mode (src/queue/) publishes the same objects to its events subject, so both ways in share this one source.
 */
export const BATCH_STARTED = 'embedding.batch_started.v1';
export const BATCH_COMPLETED = 'embedding.batch_completed.v1';
export const BATCH_FAILED = 'embedding.batch_failed.v1';

export type BatchEventType = typeof BATCH_STARTED | typeof BATCH_COMPLETED | typeof BATCH_FAILED;

export interface BatchEvent {
  type: BatchEventType;
  /** ISO 8601 in UTC with a Z, as the original wrote it. */
  timestamp: string;
  payload: {
    batch_id: string;
    chunk_count: number;
    /** From the started event to the last byte of the answer (or the failure), to 0.01 ms as the original rounded it. */
    duration_ms?: number;
    /** batch_failed only: the error code the client was sent, or `client_disconnected`. */
    error_code?: string;
    /** batch_failed from the queue only: why, in words (e.g. the validation message of a malformed job). */
    reason?: string;
  };
}

/** One request's events: `started` now, then exactly one of `completed` or `failed`. */
export interface BatchEvents {
  completed(): void;
  failed(errorCode: string, reason?: string): void;
}

/** Where each event goes besides the log (the queue publishes it); it must not throw. */
export type BatchEventSink = (event: BatchEvent) => void;

export function batchEvents(log: Logger, batchId: string, chunkCount: number, sink?: BatchEventSink): BatchEvents {
  const started = performance.now();
  const emit = (type: BatchEventType, extra: { duration_ms?: number; error_code?: string; reason?: string } = {}) => {
    const event: BatchEvent = { type, timestamp: new Date().toISOString(), payload: { batch_id: batchId, chunk_count: chunkCount, ...extra } };
    log[type === BATCH_FAILED ? 'warn' : 'info']({ event }, `Event: ${type}`);
    sink?.(event);
  };
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  let done = false;
  emit(BATCH_STARTED);
  return {
    completed() {
      if (done) return;
      done = true;
      emit(BATCH_COMPLETED, { duration_ms: elapsed() });
    },
    failed(errorCode, reason) {
      if (done) return;
      done = true;
      emit(BATCH_FAILED, { duration_ms: elapsed(), error_code: errorCode, ...(reason === undefined ? {} : { reason }) });
    },
  };
}
