/**
 * The worker's decisions, pure so they are tested without a server: how many jobs to fetch, and what becomes of a job
 * that did not complete.
 */

export interface FetchState {
  /** Connected to a NATS server, with the streams and the consumer in place. */
  connected: boolean;
  /** SIGTERM/SIGINT: no new work. */
  stopping: boolean;
  /** The memory supervisor holds new batches back (over budget at the floor). */
  paused: boolean;
  /** The memory supervisor refuses new work (paused past EMBEDDING_MAX_PAUSE_MS). */
  refusing: boolean;
  /** Batches allowed in flight right now (RuntimeLimits.concurrency, which the supervisor steers). */
  concurrency: number;
  /** Jobs this worker holds: running, or fetched and about to run. */
  held: number;
}

/**
 * Jobs to ask the server for now: the free batch slots, one job each, and none at all while the supervisor pauses or
 * refuses, while stopping or while disconnected. Never more than there is room for, so what this worker does not take
 * stays on the server for another worker.
 */
export function fetchCount(state: FetchState): number {
  if (!state.connected || state.stopping || state.paused || state.refusing) return 0;
  return Math.max(0, state.concurrency - state.held);
}

/** Failures no redelivery can cure: the job fails for good at once. */
const PERMANENT = new Set(['validation_failed', 'invalid_json', 'invalid_job', 'too_many_chunks', 'insufficient_memory', 'result_too_large', 'max_deliveries']);

export type FailureAction = 'retry' | 'fail';

/**
 * A job that did not complete is given back for another delivery (nak with a delay), unless its failure is permanent
 * or this was its last allowed delivery: then its failure is published and it is terminated, never dropped silently.
 */
export function failureAction(code: string, deliveryCount: number, maxDeliver: number): FailureAction {
  return PERMANENT.has(code) || deliveryCount >= maxDeliver ? 'fail' : 'retry';
}

/** Heartbeat period of a running job: a third of the ack wait, so two can be lost before the server redelivers. */
export function heartbeatMs(ackWaitMs: number): number {
  return Math.max(250, Math.floor(ackWaitMs / 3));
}
