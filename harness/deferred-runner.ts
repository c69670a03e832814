/**
 * A batch runner for scheduler tests that finishes batches only when told to, so a test can look at
 * the queue between steps. `result` makes each batch's answer from its texts.
 */
export function deferredRunner<R>(result: (texts: string[]) => R) {
  const started: Array<{ texts: string[]; signal: AbortSignal | undefined }> = [];
  const pending: Array<() => void> = [];
  const run = (texts: string[], signal?: AbortSignal) =>
    new Promise<R>((resolve) => {
      started.push({ texts, signal });
      pending.push(() => resolve(result(texts)));
    });
  return { run, started, finishOne: () => pending.shift()?.() };
}

/** Lets settled promises' callbacks run. */
export const tick = () => new Promise((r) => setImmediate(r));
