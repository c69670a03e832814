import type { RequestHandler } from 'express';
import type { ServiceStatus } from './health-route.js';
import type { QueueReadyState } from './schemas.js';

/** Where the process is in its life, as far as traffic is concerned. */
export interface Lifecycle {
  /** Set when SIGTERM/SIGINT arrives: readiness fails so load balancers stop sending work. */
  draining: boolean;
}

export type Readiness = 'ready' | 'loading' | 'draining';

export function readiness(status: ServiceStatus, lifecycle: Lifecycle): Readiness {
  return lifecycle.draining ? 'draining' : status.ready ? 'ready' : 'loading';
}

/**
 * GET /ready: readiness, separate from liveness (/health). 200 only when the model is loaded and
 * the process is not shutting down; 503 otherwise, so an orchestrator routes traffic elsewhere
 * without restarting a process that is merely busy loading or draining. In worker mode it also reports the NATS
 * consumer's state (connected, lag, redeliveries).
 */
export function readyRoute(status: ServiceStatus, lifecycle: Lifecycle, queue?: () => QueueReadyState): RequestHandler {
  return (_req, res) => {
    const state = readiness(status, lifecycle);
    // The queue's state is reported, not judged: HTTP traffic is served whether or not NATS is reachable.
    res.status(state === 'ready' ? 200 : 503).json(queue ? { status: state, queue: queue() } : { status: state });
  };
}
