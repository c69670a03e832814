/**
 * The supervisor's decisions, as a pure function: the current state, a memory reading and the
 * workers' figures in; the next state and the actions to take, each with its reason, out. No
 * timers, no I/O, so every step (pressure → shrink order → floor → wait → refuse → relief →
 * growth, and recycling) is tested with made-up numbers.
 *
 * Control is additive-increase / multiplicative-decrease with hysteresis, on the ratio of the
 * process's RSS to the budget:
 *   ratio < lowWater                 calm: after `growAfterSamples` calm readings in a row, grow one step
 *   lowWater ≤ ratio < highWater     hold: change nothing (the band that stops oscillation)
 *   highWater ≤ ratio < 1            high: halve the batch size; once at the minimum, drop one unit of concurrency
 *   ratio ≥ 1                        critical: batch size straight to the minimum, then concurrency down to 1;
 *                                    at that floor new batches wait (pause) for at most maxPauseMs, after which
 *                                    dispatch resumes for accepted work and new requests are refused
 * Growth goes back in the reverse order: concurrency first, then batch size in additive steps.
 */

export type PressureLevel = 'calm' | 'elevated' | 'high' | 'critical';

export interface PolicyConfig {
  /** EMBEDDING_ADAPTIVE_BATCHING: false keeps batch size and concurrency at their maxima (the floor still holds). */
  adaptive: boolean;
  budgetBytes: number;
  minBatchSize: number;
  maxBatchSize: number;
  maxConcurrency: number;
  /** Fraction of the budget at or above which limits shrink. */
  highWater: number;
  /** Fraction of the budget below which limits may grow. */
  lowWater: number;
  /** Calm readings in a row before each growth step. */
  growAfterSamples: number;
  /** Chunks added to the batch size per growth step. */
  batchGrowStep: number;
  /** Longest time new batches wait at the floor before requests are refused instead. */
  maxPauseMs: number;
  /** Recycle a worker after this many tasks (0: never). */
  recycleAfterTasks: number;
  /** Recycle a worker whose estimated footprint passes this many bytes (0: never). */
  recycleAboveBytes: number;
  /** Idle this long with usage above the low-water mark, workers that ran work are recycled (0: never). */
  reclaimAfterIdleMs: number;
  /** Estimated bytes a worker's ONNX arena needs for one batch of `batchSize` full-length chunks. */
  arenaBytesFor: (batchSize: number) => number;
  /**
   * Pressure recycles are at least this far apart; after one that did not free what it was expected
   * to, the gap doubles (up to `recycleMaxBackoffMs`), and one that helped brings it back here.
   */
  recycleMinIntervalMs: number;
  recycleMaxBackoffMs: number;
  /**
   * Every batch's memory is checked before it starts (headroom-gate.ts), so at high pressure fewer
   * batches in flight would only cost throughput: concurrency is then cut only when over budget.
   */
  gatedDispatch: boolean;
}

/**
 * A pressure recycle must be expected to free at least this much: a worker's arena over what the
 * current batch size needs. Below it, reloading the model costs more than it could win.
 */
export const MIN_RECYCLE_GAIN_BYTES = 32 * 1024 * 1024;

export interface WorkerView {
  id: number;
  /** Tasks served since this worker (its ONNX session) started. */
  tasks: number;
  /** Estimated footprint: its isolate's heap and external memory plus its ONNX arena's high-water mark. */
  estimatedBytes: number;
  /** Its ONNX arena's high-water mark alone (the batch memory model's figure for its largest batch). */
  arenaBytes: number;
  state: 'starting' | 'ready' | 'recycling';
}

export interface PolicyState {
  level: PressureLevel;
  batchSize: number;
  concurrency: number;
  /** New batches wait (dispatch paused) since this time; null when dispatching. */
  pausedSince: number | null;
  /** New requests are answered 503. */
  refusing: boolean;
  calmSamples: number;
  /** No pressure recycle before this time (the backoff). */
  recycleAfter: number;
  recycleBackoffMs: number;
  /** A pressure recycle whose effect is still to be checked: usage before it and what it was expected to free. */
  recycleCheck: { beforeBytes: number; expectedBytes: number; at: number } | null;
}

export interface PolicyInput {
  now: number;
  usedBytes: number;
  workers: readonly WorkerView[];
  /** How long no batch has been running or waiting (0 while busy). */
  idleMs: number;
}

export type Action =
  | { type: 'batch-size'; from: number; to: number; reason: string }
  | { type: 'concurrency'; from: number; to: number; reason: string }
  | { type: 'pause'; reason: string }
  | { type: 'resume'; reason: string }
  | { type: 'refuse'; reason: string }
  | { type: 'admit'; reason: string }
  | { type: 'recycle'; worker: number; cause: 'tasks' | 'size' | 'pressure' | 'idle'; reason: string }
  | { type: 'recycle-result'; freedBytes: number; helped: boolean; backoffMs: number; reason: string };

export interface Decision {
  state: PolicyState;
  actions: Action[];
  ratio: number;
}

export function initialState(config: PolicyConfig): PolicyState {
  return {
    level: 'calm',
    batchSize: config.maxBatchSize,
    concurrency: config.maxConcurrency,
    pausedSince: null,
    refusing: false,
    calmSamples: 0,
    recycleAfter: 0,
    recycleBackoffMs: config.recycleMinIntervalMs,
    recycleCheck: null,
  };
}

export function pressureLevel(ratio: number, config: Pick<PolicyConfig, 'lowWater' | 'highWater'>): PressureLevel {
  if (ratio >= 1) return 'critical';
  if (ratio >= config.highWater) return 'high';
  if (ratio >= config.lowWater) return 'elevated';
  return 'calm';
}

const mb = (bytes: number) => `${Math.round(bytes / 1048576)} MB`;

export function decide(previous: PolicyState, input: PolicyInput, config: PolicyConfig): Decision {
  const ratio = input.usedBytes / config.budgetBytes;
  const level = pressureLevel(ratio, config);
  const state: PolicyState = { ...previous, level };
  const actions: Action[] = [];
  const usage = `RSS ${mb(input.usedBytes)} is ${Math.round(ratio * 100)}% of the ${mb(config.budgetBytes)} budget`;

  if (level === 'high' || level === 'critical') {
    state.calmSamples = 0;
    const atFloor = shrink(state, level, config, usage, actions);
    if (level === 'critical' && atFloor) {
      if (state.pausedSince === null && !state.refusing) {
        state.pausedSince = input.now;
        actions.push({ type: 'pause', reason: `${usage} at the floor (batch ${state.batchSize}, concurrency ${state.concurrency}): new batches wait up to ${config.maxPauseMs} ms` });
      } else if (state.pausedSince !== null && input.now - state.pausedSince >= config.maxPauseMs) {
        state.pausedSince = null;
        state.refusing = true;
        actions.push({ type: 'resume', reason: `still over budget after waiting ${config.maxPauseMs} ms: accepted requests continue at the floor` });
        actions.push({ type: 'refuse', reason: `${usage}: new requests get 503 until usage falls below ${Math.round(config.highWater * 100)}%` });
      }
    } else if (state.pausedSince !== null) {
      state.pausedSince = null;
      actions.push({ type: 'resume', reason: `${usage}, back under the budget` });
    }
  } else {
    if (state.pausedSince !== null) {
      state.pausedSince = null;
      actions.push({ type: 'resume', reason: `${usage}, back under the budget` });
    }
    if (state.refusing) {
      state.refusing = false;
      actions.push({ type: 'admit', reason: `${usage}: accepting new requests again` });
    }
    if (level === 'calm') {
      state.calmSamples++;
      if (config.adaptive && state.calmSamples >= config.growAfterSamples) {
        grow(state, config, usage, actions);
        state.calmSamples = 0;
      }
    } else {
      state.calmSamples = 0;
    }
  }

  const checked = checkRecycle(state, input, config);
  if (checked) actions.push(checked);
  const recycle = pickRecycle(state, input, config, level);
  if (recycle) actions.push(recycle);
  return { state, actions, ratio };
}

/**
 * Once a pressure recycle is over (every worker ready again), did it free what was expected? If it
 * freed less than a quarter of it, the next pressure recycle waits twice as long; if it helped, the
 * wait is back at its minimum. So a budget that a fresh worker cannot beat gets a few recycles, not
 * a storm.
 */
function checkRecycle(state: PolicyState, input: PolicyInput, config: PolicyConfig): Action | undefined {
  const check = state.recycleCheck;
  if (!check || input.now <= check.at || input.workers.some((w) => w.state !== 'ready')) return undefined;
  const freed = check.beforeBytes - input.usedBytes;
  const helped = freed >= check.expectedBytes / 4;
  state.recycleBackoffMs = helped ? config.recycleMinIntervalMs : Math.min(config.recycleMaxBackoffMs, state.recycleBackoffMs * 2);
  state.recycleAfter = input.now + state.recycleBackoffMs;
  state.recycleCheck = null;
  return {
    type: 'recycle-result',
    freedBytes: freed,
    helped,
    backoffMs: state.recycleBackoffMs,
    reason: helped
      ? `the recycle freed ${mb(freed)} (expected ${mb(check.expectedBytes)})`
      : `the recycle freed ${mb(freed)} of the ${mb(check.expectedBytes)} expected: the next pressure recycle waits ${Math.round(state.recycleBackoffMs / 1000)} s`,
  };
}

/** One shrink step in the documented order; returns true when already at the floor. */
function shrink(state: PolicyState, level: PressureLevel, config: PolicyConfig, usage: string, actions: Action[]): boolean {
  if (!config.adaptive) return true;
  if (state.batchSize > config.minBatchSize) {
    const to = level === 'critical' ? config.minBatchSize : Math.max(config.minBatchSize, Math.floor(state.batchSize / 2));
    actions.push({ type: 'batch-size', from: state.batchSize, to, reason: `${usage}: ${level === 'critical' ? 'batch size to the minimum' : 'halving the batch size'}` });
    state.batchSize = to;
    return false;
  }
  if (state.concurrency > 1 && (level === 'critical' || !config.gatedDispatch)) {
    const to = level === 'critical' ? 1 : state.concurrency - 1;
    actions.push({ type: 'concurrency', from: state.concurrency, to, reason: `${usage} at the minimum batch size: fewer batches in flight` });
    state.concurrency = to;
    return false;
  }
  return true;
}

/** One additive growth step: concurrency back first, then the batch size. */
function grow(state: PolicyState, config: PolicyConfig, usage: string, actions: Action[]): void {
  if (state.concurrency < config.maxConcurrency) {
    actions.push({ type: 'concurrency', from: state.concurrency, to: state.concurrency + 1, reason: `${usage}, calm for ${state.calmSamples} readings: one more batch in flight` });
    state.concurrency++;
  } else if (state.batchSize < config.maxBatchSize) {
    const to = Math.min(config.maxBatchSize, state.batchSize + config.batchGrowStep);
    actions.push({ type: 'batch-size', from: state.batchSize, to, reason: `${usage}, calm for ${state.calmSamples} readings: growing the batch size` });
    state.batchSize = to;
  }
}

/**
 * At most one worker is recycled at a time (the pool drains it first, so nothing in flight is lost).
 * By task count and by size at any level; under pressure, also the worker with the largest arena
 * when that arena is more than twice what the current batch size needs and a fresh worker would free
 * at least MIN_RECYCLE_GAIN_BYTES (shrinking batches frees no arena memory), no sooner than the
 * backoff allows (checkRecycle).
 * And when the pool has been idle for a while but usage still sits above the low-water mark, each
 * worker that has run work since it started: an arena never shrinks, so without this an idle server
 * can stay in the hold band, its limits never growing back, for as long as nobody sends anything.
 * A fresh worker has run nothing, so each worker is recycled at most once per idle spell.
 */
function pickRecycle(state: PolicyState, input: PolicyInput, config: PolicyConfig, level: PressureLevel): Action | undefined {
  if (input.workers.some((w) => w.state !== 'ready')) return undefined;
  const byTasks = config.recycleAfterTasks > 0 ? input.workers.find((w) => w.tasks >= config.recycleAfterTasks) : undefined;
  if (byTasks) {
    return { type: 'recycle', worker: byTasks.id, cause: 'tasks', reason: `worker ${byTasks.id} has served ${byTasks.tasks} tasks (limit ${config.recycleAfterTasks})` };
  }
  const bySize = [...input.workers].sort((a, b) => b.estimatedBytes - a.estimatedBytes);
  const largest = bySize[0];
  if (!largest) return undefined;
  if (config.recycleAboveBytes > 0 && largest.estimatedBytes >= config.recycleAboveBytes) {
    return { type: 'recycle', worker: largest.id, cause: 'size', reason: `worker ${largest.id} is about ${mb(largest.estimatedBytes)} (limit ${mb(config.recycleAboveBytes)})` };
  }
  const needed = config.arenaBytesFor(state.batchSize);
  const biggestArena = [...input.workers].sort((a, b) => b.arenaBytes - a.arenaBytes)[0]!;
  const gain = biggestArena.arenaBytes - needed;
  if (
    (level === 'high' || level === 'critical') &&
    biggestArena.arenaBytes > 2 * needed &&
    gain >= MIN_RECYCLE_GAIN_BYTES &&
    input.now >= state.recycleAfter &&
    state.recycleCheck === null
  ) {
    state.recycleCheck = { beforeBytes: input.usedBytes, expectedBytes: gain, at: input.now };
    state.recycleAfter = input.now + state.recycleBackoffMs;
    return {
      type: 'recycle',
      worker: biggestArena.id,
      cause: 'pressure',
      reason: `under pressure, worker ${biggestArena.id}'s arena holds about ${mb(biggestArena.arenaBytes)}, more than twice the ${mb(needed)} batch size ${state.batchSize} needs: a fresh one should free about ${mb(gain)}`,
    };
  }
  const used = bySize.find((w) => w.tasks > 0);
  if (level !== 'calm' && used && config.reclaimAfterIdleMs > 0 && input.idleMs >= config.reclaimAfterIdleMs) {
    return {
      type: 'recycle',
      worker: used.id,
      cause: 'idle',
      reason: `idle for ${Math.round(input.idleMs / 1000)} s at ${level} usage, worker ${used.id} holds about ${mb(used.estimatedBytes)} from the work it ran: a fresh one frees its arena`,
    };
  }
  return undefined;
}
