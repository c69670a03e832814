/**
 * An AbortController for a request's batches that also aborts when the client's signal does, and
 * lets go of that signal once the request is over.
 *
 * Not AbortSignal.any: on Node 20 a signal it makes is never collected once a listener is attached
 * (nodejs/node#55328), and the scheduler attaches one per batch, each holding the batch's texts.
 * Measured: 3.3 KB of heap kept per request with AbortSignal.any, none with this.
 */
export function linkedAbortController(parent: AbortSignal | undefined): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  if (!parent) return { controller, unlink: () => undefined };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, unlink: () => undefined };
  }
  const forward = () => controller.abort(parent.reason);
  parent.addEventListener('abort', forward, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', forward) };
}
