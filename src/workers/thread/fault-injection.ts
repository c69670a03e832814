/**
 * Test-only fault injection, off unless EMBEDDING_TEST_FAULTS is set (e.g. `throw:1` or `exit:2`).
 * A batch holding a chunk whose content is exactly FAULT_MARKER then fails in that worker, as many
 * times as the count says, across all workers: `throw` rejects the task, `exit` ends the worker thread.
 * The count lives in a SharedArrayBuffer that every worker (replacements included) receives in
 * workerData, so "fail once, then succeed on the retry" is deterministic.
 */
export const FAULT_MARKER = '\u0000doctown-test-fault\u0000';

export interface FaultSettings {
  mode: 'throw' | 'exit';
  remaining: Int32Array;
}

/** Parses `mode:count`; returns undefined for an unset variable. */
export function parseFaultSpec(spec: string | undefined): FaultSettings | undefined {
  if (!spec) return undefined;
  const match = /^(throw|exit):(\d+)$/.exec(spec.trim());
  if (!match) throw new Error(`EMBEDDING_TEST_FAULTS=${JSON.stringify(spec)}: expected throw:N or exit:N`);
  const remaining = new Int32Array(new SharedArrayBuffer(4));
  remaining[0] = Number(match[2]);
  return { mode: match[1] as FaultSettings['mode'], remaining };
}

export function maybeInjectFault(faults: FaultSettings | undefined, texts: readonly string[]): void {
  if (!faults || !texts.includes(FAULT_MARKER)) return;
  if (Atomics.sub(faults.remaining, 0, 1) <= 0) return;
  if (faults.mode === 'exit') process.exit(1); // in a worker thread this ends the thread, not the process
  throw new Error('injected fault (EMBEDDING_TEST_FAULTS)');
}
