/**
 * Which worker the next waiting batch goes to (issue 16): the pool's choice, kept pure so it is tested
 * without threads.
 *
 * The throughput layout is one single-threaded session per core: under load every core runs a batch
 * of its own, the fastest way through a backlog. A lone request then runs on one core while the
 * others idle. The lone worker holds a session with intra-op threads for every core and takes a
 * batch only when that batch is the only work in the pool: nothing running and nothing else
 * waiting. Under load that never holds, so the busy path is unchanged.
 */

export interface DispatchView {
  /** Batches waiting for a worker, the one being placed included. */
  waiting: number;
  /** Batches holding a worker now. */
  running: number;
  /** A lone worker exists, has loaded its session and is free. */
  loneFree: boolean;
  /** A regular (one session per core) worker is ready and free. */
  regularFree: boolean;
  /**
   * The batches submitted in the same tick as this one have all arrived: the scheduler hands every
   * batch it may start to the pool synchronously, so after one deferral (a microtask) a request's
   * second batch is visible and its first does not take every core from it.
   */
  settled: boolean;
}

/** `lone`: the whole-machine worker; `regular`: a regular worker; `defer`: look again once the tick's batches are in; `wait`: no worker free. */
export type DispatchChoice = 'lone' | 'regular' | 'defer' | 'wait';

export function chooseWorker(view: DispatchView): DispatchChoice {
  if (view.waiting === 0) return 'wait';
  const alone = view.waiting === 1 && view.running === 0;
  if (alone && view.loneFree) return view.settled ? 'lone' : 'defer';
  return view.regularFree ? 'regular' : 'wait';
}
