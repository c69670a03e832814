/**
 * A batch runner for scheduler tests that finishes batches only when told to, so a test can look at
 * the queue between steps. `result` makes each batch's answer from its texts.
 */
export function deferredRunner<R>(result: (texts: string[]) => R) {
  // Every argument the scheduler passes is kept, so a test can check that no AbortSignal ever reaches a running batch.
  const started: Array<{ texts: string[]; maxRows: number | undefined; extra: unknown[] }> = [];
  const pending: Array<() => void> = [];
  const run = (texts: string[], maxRows?: number, ...extra: unknown[]) =>
    new Promise<R>((resolve) => {
      started.push({ texts, maxRows, extra });
      pending.push(() => resolve(result(texts)));
    });
  return { run, started, finishOne: () => pending.shift()?.() };
}

/** Lets settled promises' callbacks run. */
export const tick = () => new Promise((r) => setImmediate(r));
